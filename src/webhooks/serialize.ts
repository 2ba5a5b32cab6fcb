/**
 * A stored webhook as the API shows it, with Squadcast's field names. Header values are masked;
 * the signing secret only appears when the caller asks for it (single-webhook answers to a manager).
 */
import type { WebhookDoc } from '../db/webhook';
import { libraryTemplate } from '../templates/library';
import { MASKED_VALUE } from './validate';

export interface SerializeOptions {
  withSecret: boolean;
}

/**
 * Squadcast's `custom_payload_template_name`: the name of the library template a custom payload
 * started from (its slug when the library no longer has it), else "".
 */
export function templateNameOf(doc: Pick<WebhookDoc, 'payload_type' | 'custom_payload_template_slug'>): string {
  const slug = doc.payload_type === 'custom' ? (doc.custom_payload_template_slug ?? '') : '';
  return slug ? (libraryTemplate(slug)?.name ?? slug) : '';
}

export function serializeWebhook(doc: WebhookDoc, opts: SerializeOptions = { withSecret: false }) {
  const header: Record<string, string> = {};
  for (const h of doc.headers ?? []) if (h.name) header[h.name] = MASKED_VALUE;
  return {
    id: String(doc._id),
    slug: doc.slug,
    organization_id: doc.organizationId,
    author_id: doc.author_id,
    name: doc.name,
    description: doc.description ?? '',
    trigger_type: doc.trigger_type,
    version: doc.version ?? 'v2',
    triggers: (doc.triggers ?? []).map((t) => ({ event_class: t.event_class, event_type: t.event_type })),
    // disabled_*: set by auto-disable (a URL whose deliveries kept failing), else null.
    urls: (doc.urls ?? []).map((u) => ({
      url: u.url,
      method: u.method,
      ...(u.rate_per_second ? { rate_limit: { per_second: u.rate_per_second } } : {}),
      disabled_reason: u.disabled_reason ?? null,
      disabled_at: u.disabled_at ?? null,
    })),
    header,
    filters: doc.filters ? (JSON.parse(doc.filters) as unknown) : null,
    max_retry: doc.max_retry,
    teams: [...(doc.teams ?? [])],
    is_all_teams_configured: doc.is_all_teams_configured,
    mail_ids: [...(doc.mail_ids ?? [])],
    payload_type: doc.payload_type,
    custom_payload: doc.custom_payload ?? '',
    custom_payload_template_slug: doc.custom_payload_template_slug ?? '',
    custom_payload_template_name: templateNameOf(doc),
    language: doc.language ?? 'jsonnet',
    enabled: doc.enabled,
    disabled_reason: doc.disabled_reason ?? null,
    disabled_at: doc.disabled_at ?? null,
    created_at: doc.get('created_at') as Date,
    updated_at: doc.get('updated_at') as Date,
    ...(opts.withSecret ? { secret: doc.secrets?.[0]?.value ?? null } : {}),
  };
}

/**
 * What a plain user may see of a manual webhook they can fire: nothing that reveals its targets,
 * and at least Squadcast's list item (`id, name, description, trigger_type, payload_type,
 * custom_payload_template_name`).
 */
export function serializeFireableWebhook(doc: WebhookDoc) {
  return {
    id: String(doc._id),
    slug: doc.slug,
    name: doc.name,
    description: doc.description ?? '',
    trigger_type: doc.trigger_type,
    payload_type: doc.payload_type,
    custom_payload_template_name: templateNameOf(doc),
    teams: [...(doc.teams ?? [])],
    is_all_teams_configured: doc.is_all_teams_configured,
    enabled: doc.enabled,
  };
}

/**
 * The webhook as a manual fire answers it, in Squadcast's shape (its SDK checks it): `triggers` as
 * event type strings, and `header` with the `Content-Type` every request carries. A plain user (not a
 * manager) gets the same shape without the targets: no URLs, mails, header values or template.
 */
export function serializeFiredWebhook(doc: WebhookDoc, opts: { withTargets: boolean }) {
  const full = serializeWebhook(doc);
  const fired = {
    ...full,
    triggers: full.triggers.map((t) => t.event_type),
    header: { 'Content-Type': 'application/json', ...full.header },
  };
  if (opts.withTargets) return fired;
  return {
    ...fired,
    urls: [],
    header: { 'Content-Type': 'application/json' },
    mail_ids: [],
    custom_payload: '',
    filters: null,
  };
}
