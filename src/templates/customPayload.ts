import { V2_EVENT_TYPES } from '../shared/catalog';
import type { FieldError } from '../shared/errors';
import type { PayloadType, TriggerType } from '../shared/types';
import { formatTemplateError, sharedTemplateEngine, type TemplateEngine } from './engine';
import { libraryTemplate } from './library';
import { validateTemplate } from './validate';

/** The parts of a webhook config that decide its custom payload (Squadcast's field names). */
export interface CustomPayloadFields {
  payload_type: PayloadType;
  custom_payload: string;
  custom_payload_template_slug: string;
  trigger_type: TriggerType;
  /** v2 `event.type`s, or v1 `event_type`s for a v1 webhook. */
  triggers: readonly { event_type: string }[];
}

export type CustomPayloadCheck = { ok: true; custom_payload: string } | { ok: false; errors: FieldError[] };

/**
 * The check of a custom payload at save: the template (`custom_payload`, or when that is empty the
 * library template named by `custom_payload_template_slug`, whose code is then what is saved) must
 * render for the sample of every trigger event (a manual webhook: incident.triggered). A failure
 * names the event and where the template failed. A broken engine rejects (not the user's fault).
 */
export async function checkCustomPayload(
  input: CustomPayloadFields,
  engine: TemplateEngine = sharedTemplateEngine(),
): Promise<CustomPayloadCheck> {
  if (input.payload_type !== 'custom') return { ok: true, custom_payload: input.custom_payload };
  let source = input.custom_payload;
  if (!source.trim() && input.custom_payload_template_slug) {
    const template = libraryTemplate(input.custom_payload_template_slug);
    if (!template) {
      return {
        ok: false,
        errors: [{ field: 'custom_payload_template_slug', message: 'is not a template of the library' }],
      };
    }
    source = template['template-code'];
  }
  if (!source.trim()) {
    return {
      ok: false,
      errors: [
        {
          field: 'custom_payload',
          message: 'is required for a custom payload (or name a custom_payload_template_slug)',
        },
      ],
    };
  }
  // Only catalog types have a sample to render; an unknown one is already a 422 on its trigger
  // (found by the fuzzer: it reached the sampler and answered 500).
  const eventTypes =
    input.trigger_type === 'automatic'
      ? input.triggers.map((t) => t.event_type).filter((t) => V2_EVENT_TYPES.has(t))
      : [];
  const result = await validateTemplate(engine, source, eventTypes);
  if (result.ok) return { ok: true, custom_payload: source };
  return {
    ok: false,
    errors: [
      {
        field: 'custom_payload',
        message: `does not render for ${result.event_type}: ${formatTemplateError(result.error)}`,
      },
    ],
  };
}
