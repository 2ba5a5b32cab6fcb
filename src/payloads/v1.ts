/**
 * The v1 payload, derived from an ingested v2 incident event. Pure (workflow code imports it).
 * Keys come in the order of Squadcast's v1 examples (fixtures/v1); fields v1 lacks are dropped,
 * and a v1 key the incident does not have is sent as null.
 */
import { incidentOfEvent } from '../shared/incident';
import { isPlainObject } from '../shared/json';
import type { EventEnvelopeV2, Json, JsonObject } from '../shared/types';

export const V1_KEYS = [
  'id',
  'event_type',
  'organization',
  'service',
  'alert_source',
  'message',
  'description',
  'status',
  'created_at',
  'assigned_to',
  'tags',
  'timeline',
  'analytics',
  'event_count',
  'event_payload',
  'owner',
  'manually_created_by',
] as const;

const isObject = (v: Json | undefined): v is JsonObject => isPlainObject(v);

function entryOf(timeline: Json[], action: string): { at: number; entry: JsonObject } | undefined {
  for (const entry of timeline) {
    if (!isObject(entry) || entry.action !== action || typeof entry.time !== 'string') continue;
    const at = Date.parse(entry.time);
    if (!Number.isNaN(at)) return { at, entry };
  }
  return undefined;
}

/**
 * Who took a timeline action: the entry's own user id when it has one, else the user of the
 * incident (its assignee or creator) whose name the entry gives; v2 timelines carry names only.
 */
function userIdOf(entry: JsonObject, incident: JsonObject): string | undefined {
  for (const key of ['user_id', 'id']) if (typeof entry[key] === 'string' && entry[key]) return entry[key];
  if (entry.assigned_to !== 'user' || typeof entry.name !== 'string') return undefined;
  const assignee = incident.assigned_to;
  const candidates = [isObject(assignee) && assignee.type === 'user' ? assignee : null, incident.manually_created_by];
  for (const user of candidates) {
    if (isObject(user) && user.name === entry.name && typeof user.id === 'string') return user.id;
  }
  return undefined;
}

/** The escalation policy the incident was first assigned to (the trigger's `event_payload.assignee`). */
function escalationPolicyIdOf(incident: JsonObject): string | undefined {
  const payload = incident.event_payload;
  const assignee = isObject(payload) ? payload.assignee : undefined;
  if (isObject(assignee) && assignee.type === 'escalationpolicy' && typeof assignee.id === 'string') return assignee.id;
  const current = incident.assigned_to;
  if (isObject(current) && current.type === 'escalationpolicy' && typeof current.id === 'string') return current.id;
  return undefined;
}

/**
 * `tta` / `ttr` as in Squadcast's v1 examples: `time`, the milliseconds from the trigger to the first
 * acknowledgement / resolution in the timeline (the trigger time is the timeline's `triggered`
 * entry, else `created_at`), then `user_id` (who did it) and `escalation_policy_id` where the
 * incident tells them; `{}` when the timeline has neither.
 */
export function analyticsOf(incident: JsonObject): JsonObject {
  const timeline = Array.isArray(incident.timeline) ? incident.timeline : [];
  const createdAt = typeof incident.created_at === 'string' ? Date.parse(incident.created_at) : NaN;
  const start = entryOf(timeline, 'triggered')?.at ?? (Number.isNaN(createdAt) ? undefined : createdAt);
  const analytics: JsonObject = {};
  if (start === undefined) return analytics;
  const policyId = escalationPolicyIdOf(incident);
  for (const [key, action] of [
    ['tta', 'acknowledged'],
    ['ttr', 'resolved'],
  ] as const) {
    const found = entryOf(timeline, action);
    if (!found) continue;
    const measure: JsonObject = { time: Math.max(0, found.at - start) };
    const userId = userIdOf(found.entry, incident);
    if (userId) measure.user_id = userId;
    if (policyId) measure.escalation_policy_id = policyId;
    analytics[key] = measure;
  }
  return analytics;
}

/** v1 `assigned_to` has no `assigned_at`. */
function assignedTo(v: Json | undefined): Json {
  if (!isObject(v)) return v ?? null;
  const { id = null, name = null, type = null } = v;
  return { id, name, type };
}

export function toV1Payload(envelope: EventEnvelopeV2, v1EventType: string): JsonObject {
  const incident = incidentOfEvent(envelope) ?? {};
  const derived: Record<(typeof V1_KEYS)[number], Json> = {
    id: incident.id ?? null,
    event_type: v1EventType,
    organization: { id: envelope.data.organization.id, name: envelope.data.organization.name },
    service: incident.service ?? null,
    alert_source: incident.alert_source ?? null,
    message: incident.message ?? null,
    description: incident.description ?? null,
    status: incident.status ?? null,
    created_at: incident.created_at ?? null,
    assigned_to: assignedTo(incident.assigned_to),
    // Every Squadcast v1 example has an object here; v2 sends null for an incident without tags.
    tags: isObject(incident.tags) ? incident.tags : {},
    timeline: incident.timeline ?? [],
    analytics: analyticsOf(incident),
    event_count: incident.event_count ?? null,
    event_payload: incident.event_payload ?? null,
    owner: incident.owner ?? null,
    manually_created_by: incident.manually_created_by ?? null,
  };
  const out: JsonObject = {};
  for (const key of V1_KEYS) out[key] = derived[key];
  return out;
}
