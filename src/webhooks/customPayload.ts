/**
 * The one place a custom (Jsonnet) payload is checked at save. Until the templates engine lands,
 * every custom payload is refused; the templates work replaces this function's body (and may copy
 * the code of `custom_payload_template_slug` into `custom_payload`).
 */
import type { FieldError } from '../api/errors';
import type { WebhookRequest } from './schema';

export type CustomPayloadCheck = { ok: true; custom_payload: string } | { ok: false; errors: FieldError[] };

export async function validateCustomPayload(
  input: WebhookRequest,
  _organizationId: string,
): Promise<CustomPayloadCheck> {
  if (input.payload_type !== 'custom') return { ok: true, custom_payload: input.custom_payload };
  return { ok: false, errors: [{ field: 'payload_type', message: 'custom payloads are not available yet' }] };
}
