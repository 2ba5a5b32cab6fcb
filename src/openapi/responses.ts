/**
 * The shapes the API answers with, for the OpenAPI document. Objects are loose (more fields may
 * come) so adding a field to an answer is not a breaking change; what is listed is what clients
 * may rely on. Real answers are checked against them by test/integration/openapi and the fuzzer.
 */
import { z } from 'zod';

/** Every error: `{"meta": {"status", "error_message", "errors"?}}` (src/api/errors.ts). */
export const errorSchema = z.object({
  meta: z.object({
    status: z.number().int(),
    error_message: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
});

/** Success bodies are `{"data": …}`. */
export const dataOf = <T extends z.ZodType>(data: T) => z.looseObject({ data });

const time = z.string().describe('ISO 8601 time');
const webhookBase = {
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  trigger_type: z.enum(['automatic', 'manual']),
  payload_type: z.enum(['standard', 'custom']),
  custom_payload_template_name: z.string(),
  teams: z.array(z.string()),
  is_all_teams_configured: z.boolean(),
  enabled: z.boolean(),
};

/** A webhook as a manager sees it (src/webhooks/serialize.ts); header values are masked. */
export const webhookSchema = z.looseObject({
  ...webhookBase,
  organization_id: z.string(),
  author_id: z.string(),
  version: z.enum(['v1', 'v2']),
  triggers: z.array(z.looseObject({ event_class: z.string().nullish(), event_type: z.string().nullish() })),
  urls: z.array(z.looseObject({ url: z.string().nullish(), method: z.string().nullish() })),
  header: z.record(z.string(), z.string()),
  filters: z.unknown().describe('the filters as written, or null'),
  max_retry: z.number().int(),
  mail_ids: z.array(z.string()),
  custom_payload: z.string(),
  custom_payload_template_slug: z.string(),
  language: z.string(),
  created_at: time,
  updated_at: time,
  secret: z.string().nullable().optional().describe('the signing secret; single-webhook answers only'),
});

/** A list item as a plain user sees it: a manual webhook they may fire, without its targets. */
export const fireableWebhookSchema = z.looseObject(webhookBase);

/** The webhook a manual fire answers with, in Squadcast's shape (`triggers` as event types). */
export const firedWebhookSchema = z.looseObject({
  ...webhookSchema.shape,
  triggers: z.array(z.string().nullish()),
});

export const webhookListSchema = z.looseObject({
  result: z.array(z.union([webhookSchema, fireableWebhookSchema])),
  meta: z.looseObject({ total_count: z.number().int() }),
});

/** One delivery attempt (src/deliveryLogs/view.ts). */
export const attemptSchema = z.looseObject({
  id: z.string(),
  timestamp: time,
  webhook_id: z.string(),
  delivery_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  url: z.string(),
  method: z.string(),
  attempt: z.number().int(),
  max_attempts: z.number().int(),
  outcome: z.enum(['delivered', 'retrying', 'failed', 'cancelled', 'in_progress']),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  duration_ms: z.number().nullable(),
  request: z.looseObject({ headers: z.record(z.string(), z.string().nullable()), body: z.string().nullable() }),
  response: z.looseObject({ body: z.string().nullable() }).nullable(),
  trigger: z.string(),
  test: z.boolean(),
});

export const logPageSchema = z.looseObject({
  result: z.array(attemptSchema),
  meta: z.looseObject({
    total_count: z.number().int(),
    total_count_exact: z.boolean(),
    limit: z.number().int(),
    offset: z.number().int(),
  }),
});

export const mailListSchema = z.looseObject({
  result: z.array(
    z.looseObject({
      id: z.string(),
      url: z.string(),
      to: z.array(z.string()),
      subject: z.string(),
      text: z.string(),
      status: z.enum(['pending', 'sent', 'stored', 'error', 'rejected']),
      error: z.string().nullable(),
      created_at: time.nullable(),
      sent_at: time.nullable(),
    }),
  ),
  meta: z.looseObject({ total_count: z.number().int() }),
});

/** What a test send found, per URL (src/webhooks/testSend.ts). */
export const testResultSchema = z.looseObject({
  event_type: z.string(),
  event_id: z.string(),
  delivery_id: z.string(),
  results: z.array(
    z.looseObject({
      url: z.string(),
      method: z.string(),
      outcome: z.enum(['delivered', 'failed']),
      status: z.number().int().nullable(),
      error: z.string().nullable(),
      duration_ms: z.number(),
      response_body: z.string(),
    }),
  ),
});

export const acceptedEventSchema = z.looseObject({
  event_id: z.string(),
  workflow_id: z.string(),
  run_id: z.string().nullable(),
  duplicate: z.boolean(),
});

export const catalogSchema = z.array(z.looseObject({ event_class: z.string(), event_type: z.string() }));

const templateSummary = {
  slug: z.string(),
  name: z.string(),
  language: z.literal('jsonnet'),
  target: z.string(),
  description: z.string(),
};
export const templateSummarySchema = z.looseObject(templateSummary);
export const templateSchema = z.looseObject({ ...templateSummary, 'template-code': z.string() });

/** `valid: true` with the rendered payload, or `valid: false` with where the template failed. */
export const templateValidationSchema = z.union([
  z.looseObject({ valid: z.literal(true), event_type: z.string(), rendered: z.unknown() }),
  z.looseObject({
    valid: z.literal(false),
    event_type: z.string(),
    error: z.looseObject({ message: z.string() }),
  }),
]);

const team = z.looseObject({ id: z.string(), slug: z.string(), name: z.string() });
export const teamsSchema = z.array(team);
export const meSchema = z.looseObject({
  organization: z.looseObject({ id: z.string(), slug: z.string() }),
  user_id: z.string(),
  role: z.enum(['owner', 'user']),
  permissions: z.array(z.string()),
  can_manage_webhooks: z.boolean(),
  teams: teamsSchema,
});

export const healthSchema = z.looseObject({ status: z.literal('ok') });
export const readinessSchema = z.looseObject({
  status: z.enum(['ready', 'unavailable']),
  checks: z.record(z.string(), z.enum(['ok', 'unavailable'])),
});
