/**
 * The seam between deliveries and the Jsonnet template engine (src/templates): a custom payload
 * is the template rendered with the event's v2 payload as `root`.
 */
import type { EventEnvelopeV2 } from '../shared/types';

/** A template that does not render (syntax, runtime error, non-JSON output): retrying cannot help. */
export class TemplateError extends Error {}

export async function renderCustomBody(_source: string, _envelope: EventEnvelopeV2): Promise<string> {
  throw new TemplateError('custom payloads need the template engine, which is not available yet');
}
