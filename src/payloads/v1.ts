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

function timeOf(entry: Json, action: string): number | undefined {
  if (!isObject(entry) || entry.action !== action || typeof entry.time !== 'string') return undefined;
  const t = Date.parse(entry.time);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * `tta` / `ttr` in milliseconds from the trigger to the first acknowledgement / resolution in the
 * timeline (the trigger time is the timeline's `triggered` entry, else `created_at`); `{}` when
 * the timeline has neither.
 */
export function analyticsOf(incident: JsonObject): JsonObject {
  const timeline = Array.isArray(incident.timeline) ? incident.timeline : [];
  const first = (action: string) => timeline.map((e) => timeOf(e, action)).find((t) => t !== undefined);
  const createdAt = typeof incident.created_at === 'string' ? Date.parse(incident.created_at) : NaN;
  const start = first('triggered') ?? (Number.isNaN(createdAt) ? undefined : createdAt);
  const analytics: JsonObject = {};
  if (start === undefined) return analytics;
  const acked = first('acknowledged');
  const resolved = first('resolved');
  if (acked !== undefined) analytics.tta = { time: Math.max(0, acked - start) };
  if (resolved !== undefined) analytics.ttr = { time: Math.max(0, resolved - start) };
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
    tags: incident.tags ?? null,
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
