/**
 * The one request schema for a webhook (POST and PUT bodies), and the TypeScript type derived
 * from it. This is the shape check (400): JSON types, required fields, enums, lengths and counts.
 * What the values mean (catalog, URLs, teams, headers, emails, filters) is checked by
 * `checkWebhook` in validate.ts (422).
 */
import { z } from 'zod';
import { HTTP_METHODS } from '../shared/types';
import type { FieldError } from '../shared/errors';
import { isPlainObject } from '../shared/json';

/** `null` reads as "not given", as Squadcast clients send it. */
const optional = <T extends z.ZodType>(schema: T, fallback: z.output<T>) =>
  schema.nullish().transform((v) => (v ?? fallback) as z.output<T>);

export const MAX_URLS = 10;
export const MAX_MAIL_IDS = 10;
export const MAX_HEADERS = 50;
export const MAX_TEAMS = 100;
export const MAX_TRIGGERS = 50;
/** The longest Jsonnet template accepted (a webhook's custom_payload, the validate route). */
export const MAX_TEMPLATE_CHARS = 64 * 1024;

const trigger = z.object({
  event_class: z.string().max(100).optional(),
  event_type: z.string().min(1).max(200),
});

const target = z.object({
  url: z.string().min(1),
  method: optional(z.enum(HTTP_METHODS as [string, ...string[]]), 'POST'),
  /** Its value's range is checked in validate.ts (422); null or absent: unlimited. */
  rate_limit: z
    .strictObject({ per_second: z.number() })
    .nullish()
    .transform((v) => v ?? null),
});

export const webhookRequestSchema = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(200),
  description: optional(z.string().max(2000), ''),
  trigger_type: z.enum(['automatic', 'manual']),
  version: optional(z.enum(['v1', 'v2']), 'v2'),
  triggers: optional(z.array(trigger).max(MAX_TRIGGERS), []),
  urls: z.array(target).min(1, 'needs at least one URL').max(MAX_URLS),
  header: optional(z.record(z.string(), z.string()), {}).refine((h) => Object.keys(h).length <= MAX_HEADERS, {
    message: `may have at most ${MAX_HEADERS} headers`,
  }),
  filters: z
    .unknown()
    .optional()
    .refine((v) => v === undefined || v === null || isPlainObject(v), { message: 'must be an object or null' })
    .transform((v) => (v ?? null) as Record<string, unknown> | null),
  max_retry: optional(z.number().int().min(0).max(10), 3),
  teams: optional(z.array(z.string().min(1)).max(MAX_TEAMS), []),
  is_all_teams_configured: optional(z.boolean(), false),
  mail_ids: optional(z.array(z.string()).max(MAX_MAIL_IDS), []),
  payload_type: optional(z.enum(['standard', 'custom']), 'standard'),
  custom_payload: optional(z.string().max(MAX_TEMPLATE_CHARS, `must be at most ${MAX_TEMPLATE_CHARS} characters`), ''),
  custom_payload_template_slug: optional(z.string().max(200), ''),
  language: optional(z.literal('jsonnet'), 'jsonnet'),
  enabled: optional(z.boolean(), true),
});

export type WebhookRequest = z.output<typeof webhookRequestSchema>;

/** Fields that responses add; a body read back and sent again may carry them, and they are ignored. */
export const READ_ONLY_FIELDS = [
  'id',
  'slug',
  'organization_id',
  'author_id',
  'created_at',
  'updated_at',
  'secret',
  // Derived from custom_payload_template_slug (serialize.ts); missing here, a webhook read back
  // and PUT unchanged was refused with 400 (found by test/integration/openapi).
  'custom_payload_template_name',
  'disabled_reason',
  'disabled_at',
] as const;

export type ParsedRequest = { ok: true; value: WebhookRequest } | { ok: false; errors: FieldError[] };

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as never)[k] : undefined), value);
}

/** The body checked against the schema, every shape error listed (unknown keys one by one). */
export function parseWebhookRequest(body: unknown): ParsedRequest {
  if (!isPlainObject(body)) return { ok: false, errors: [{ field: '(body)', message: 'must be a JSON object' }] };
  const input = { ...body };
  for (const k of READ_ONLY_FIELDS) delete input[k];
  // JSON.parse makes `__proto__` an ordinary key, but copying it into a record sets the prototype
  // instead: the header would vanish without a word.
  const proto = isPlainObject(input.header) && Object.keys(input.header).find((k) => k.toLowerCase() === '__proto__');
  if (proto) return { ok: false, errors: [{ field: `header.${proto}`, message: 'is not a valid HTTP header name' }] };
  const parsed = webhookRequestSchema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors = parsed.error.issues.flatMap((issue): FieldError[] => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ field: at ? `${at}.${k}` : k, message: 'is not a known field' }));
    }
    const missing = issue.path.length > 0 && valueAt(input, issue.path) === undefined;
    return [{ field: at || '(body)', message: missing ? 'is required' : issue.message }];
  });
  return { ok: false, errors };
}
