/**
 * The meaning check of a webhook request (422), after the shape check of schema.ts (400): every
 * problem is collected, so one answer lists every bad field. Produces the record to store.
 */
import { Types } from 'mongoose';
import type { FieldError } from '../shared/errors';
import type { PayloadType, TriggerType } from '../shared/types';
import { Team } from '../db/team';
import { compileFilters, isEmptyFilters } from '../filters/compile';
import { catalogEntry, type WebhookVersion } from '../shared/catalog';
import { checkCustomPayload } from '../templates/customPayload';
import { isReservedHeader, MASKED_VALUE } from './headers';
import type { WebhookRequest } from './schema';
import { checkTargetUrl } from './urlSafety';
import { MAX_RATE_PER_SECOND } from '../rateLimit/slots';

/** Kept here for the modules that read it from the validation (see headers.ts). */
export { MASKED_VALUE };

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_HEADER_NAME = 256;
const MAX_HEADER_VALUE = 8192;
const EMAIL =
  /^[^\s@"(),:;<>[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** The stored form of a webhook's user-editable fields (see src/db/webhook.ts). */
export interface WebhookRecord {
  name: string;
  description: string;
  trigger_type: TriggerType;
  version: WebhookVersion;
  triggers: { event_class: string; event_type: string }[];
  /** `rate_per_second`: the URL's `rate_limit.per_second`, absent when unlimited. */
  urls: { url: string; method: string; rate_per_second?: number }[];
  headers: { name: string; value: string }[];
  filters: string | null;
  filterLogic: string | null;
  max_retry: number;
  teams: string[];
  is_all_teams_configured: boolean;
  mail_ids: string[];
  payload_type: PayloadType;
  custom_payload: string;
  custom_payload_template_slug: string;
  language: string;
  enabled: boolean;
}

export interface CheckContext {
  organizationId: string;
  allowPrivateTargets: boolean;
  /** The stored headers when replacing, so masked values can be kept. */
  existingHeaders?: { name: string; value: string }[];
  /** The stored URLs when replacing: a kept header value may go only to the URLs it was given for. */
  existingUrls?: string[];
}

export type CheckedWebhook = { ok: true; record: WebhookRecord } | { ok: false; errors: FieldError[] };

function checkTriggers(input: WebhookRequest, errors: FieldError[]): WebhookRecord['triggers'] {
  if (input.trigger_type === 'manual') {
    if (input.triggers.length) errors.push({ field: 'triggers', message: 'manual webhooks have no triggers' });
    return [];
  }
  if (!input.triggers.length) {
    errors.push({ field: 'triggers', message: 'automatic webhooks need at least one trigger' });
    return [];
  }
  const seen = new Set<string>();
  return input.triggers.flatMap((t, i) => {
    const entry = catalogEntry(input.version, t.event_type);
    if (!entry) {
      errors.push({
        field: `triggers.${i}.event_type`,
        message: `"${t.event_type}" is not a ${input.version} event (GET /v3/extensions/event-webhooks/events?version=${input.version} lists them)`,
      });
      return [];
    }
    if (t.event_class !== undefined && t.event_class !== entry.event_class) {
      errors.push({
        field: `triggers.${i}.event_class`,
        message: `must be "${entry.event_class}" for ${t.event_type}`,
      });
    }
    if (seen.has(entry.event_type)) errors.push({ field: `triggers.${i}`, message: 'is listed twice' });
    seen.add(entry.event_type);
    return [{ event_class: entry.event_class, event_type: entry.event_type }];
  });
}

function checkHeaders(input: WebhookRequest, ctx: CheckContext, errors: FieldError[]): WebhookRecord['headers'] {
  const seen = new Set<string>();
  return Object.entries(input.header).map(([name, given]) => {
    const field = `header.${name}`;
    const lower = name.toLowerCase();
    let value = given;
    if (!name || name.length > MAX_HEADER_NAME || !HEADER_NAME.test(name)) {
      errors.push({ field, message: 'is not a valid HTTP header name' });
    } else if (isReservedHeader(name)) {
      errors.push({ field, message: `is set by hookrelay and may not be configured` });
    } else if (seen.has(lower)) {
      errors.push({ field, message: 'is given twice (header names are case-insensitive)' });
    }
    seen.add(lower);
    if (given === MASKED_VALUE) {
      const kept = ctx.existingHeaders?.find((h) => h.name.toLowerCase() === lower);
      const added = kept && addedUrls(input, ctx)[0];
      if (!kept) errors.push({ field, message: 'is the masked placeholder; send the real value' });
      else if (added) {
        // Otherwise anyone allowed to edit could point the webhook at their own URL (even on a
        // shared host such as a workflow-automation service) and receive the value.
        errors.push({ field, message: `is the masked placeholder; send the real value again to add ${added}` });
      } else value = kept.value;
    } else if (given.length > MAX_HEADER_VALUE) {
      errors.push({ field, message: `must be at most ${MAX_HEADER_VALUE} characters` });
    } else if (/[^\t\x20-\x7e\x80-\xff]/.test(given)) {
      // The characters HTTP (and Node's client) allow in a header value; anything else fails every send.
      errors.push({ field, message: 'may contain only printable Latin-1 characters and tabs' });
    }
    return { name, value };
  });
}

/** The request's URLs that are not among the stored ones. */
function addedUrls(input: WebhookRequest, ctx: CheckContext): string[] {
  const known = new Set(ctx.existingUrls ?? []);
  return input.urls.map((u) => u.url).filter((u) => !known.has(u));
}

function checkTeamsShape(input: WebhookRequest, errors: FieldError[]) {
  if (input.trigger_type === 'automatic') {
    if (input.teams.length) errors.push({ field: 'teams', message: 'only manual webhooks have teams' });
    if (input.is_all_teams_configured) {
      errors.push({ field: 'is_all_teams_configured', message: 'only manual webhooks have teams' });
    }
    return;
  }
  if (input.is_all_teams_configured && input.teams.length) {
    errors.push({ field: 'teams', message: 'must be empty when is_all_teams_configured is true' });
  } else if (!input.is_all_teams_configured && !input.teams.length) {
    errors.push({ field: 'teams', message: 'manual webhooks need teams or is_all_teams_configured: true' });
  }
}

/** Team ids (or slugs) resolved to the ids of this organization's teams. */
async function resolveTeams(input: WebhookRequest, organizationId: string, errors: FieldError[]): Promise<string[]> {
  if (!input.teams.length) return [];
  const ids = input.teams.filter((t) => Types.ObjectId.isValid(t) && /^[0-9a-f]{24}$/i.test(t));
  const found = await Team.find({
    organizationId,
    $or: [{ _id: { $in: ids } }, { slug: { $in: input.teams } }],
  }).lean();
  const seen = new Set<string>();
  return input.teams.flatMap((t, i) => {
    const team = found.find((f) => String(f._id) === t.toLowerCase() || f.slug === t);
    if (!team) {
      errors.push({ field: `teams.${i}`, message: `no team "${t}" in this organization` });
      return [];
    }
    const id = String(team._id);
    if (seen.has(id)) return [];
    seen.add(id);
    return [id];
  });
}

function checkFilters(input: WebhookRequest, errors: FieldError[]): Pick<WebhookRecord, 'filters' | 'filterLogic'> {
  if (input.filters === null) return { filters: null, filterLogic: null };
  if (input.trigger_type === 'manual') {
    if (!isEmptyFilters(input.filters))
      errors.push({ field: 'filters', message: 'only automatic webhooks have filters' });
    return { filters: null, filterLogic: null };
  }
  const compiled = compileFilters(input.filters);
  if (!compiled.ok) {
    for (const p of compiled.problems)
      errors.push({ field: p.path ? `filters.${p.path}` : 'filters', message: p.message });
    return { filters: null, filterLogic: null };
  }
  return {
    filters: JSON.stringify(input.filters),
    filterLogic: compiled.logic === null ? null : JSON.stringify(compiled.logic),
  };
}

/** Every semantic problem of a shape-valid request, or the record to store. */
export async function checkWebhook(input: WebhookRequest, ctx: CheckContext): Promise<CheckedWebhook> {
  const errors: FieldError[] = [];
  const triggers = checkTriggers(input, errors);
  input.urls.forEach((u, i) => {
    // A URL is what identifies a delivery (its webhook-id, log rows): listed twice, even with two
    // methods, its deliveries would collide.
    const problem =
      checkTargetUrl(u.url, ctx.allowPrivateTargets) ??
      (input.urls.findIndex((other) => other.url === u.url) < i ? 'is listed twice' : undefined);
    if (problem) errors.push({ field: `urls.${i}.url`, message: problem });
    const rate = u.rate_limit?.per_second;
    if (rate !== undefined && !(Number.isInteger(rate) && rate >= 1 && rate <= MAX_RATE_PER_SECOND)) {
      errors.push({
        field: `urls.${i}.rate_limit.per_second`,
        message: `must be a whole number from 1 to ${MAX_RATE_PER_SECOND}`,
      });
    }
  });
  const headers = checkHeaders(input, ctx, errors);
  const { filters, filterLogic } = checkFilters(input, errors);
  checkTeamsShape(input, errors);
  const teams = await resolveTeams(input, ctx.organizationId, errors);
  const mails = new Set<string>();
  input.mail_ids.forEach((m, i) => {
    if (m.length > 254 || !EMAIL.test(m))
      errors.push({ field: `mail_ids.${i}`, message: 'is not a valid email address' });
    else if (mails.has(m.toLowerCase())) errors.push({ field: `mail_ids.${i}`, message: 'is listed twice' });
    mails.add(m.toLowerCase());
  });
  const custom = await checkCustomPayload(input);
  if (!custom.ok) errors.push(...custom.errors);
  if (errors.length || !custom.ok) return { ok: false, errors };
  return {
    ok: true,
    record: {
      name: input.name,
      description: input.description,
      trigger_type: input.trigger_type,
      version: input.version,
      triggers,
      urls: input.urls.map((u) => ({
        url: u.url,
        method: u.method,
        ...(u.rate_limit ? { rate_per_second: u.rate_limit.per_second } : {}),
      })),
      headers,
      filters,
      filterLogic,
      max_retry: input.max_retry,
      teams,
      is_all_teams_configured: input.is_all_teams_configured,
      mail_ids: input.mail_ids,
      payload_type: input.payload_type,
      custom_payload: custom.custom_payload,
      custom_payload_template_slug: input.custom_payload_template_slug,
      language: input.language,
      enabled: input.enabled,
    },
  };
}
