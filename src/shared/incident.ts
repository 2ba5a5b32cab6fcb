/**
 * The incident an event is about: one rule for the store (incident id of an event), filters and v1
 * payloads. Pure (workflow code imports it through filters).
 */
import { INCIDENT_RESOURCE_EVENTS } from './catalog';
import { isPlainObject } from './json';
import type { EventEnvelopeV2, JsonObject } from './types';

/**
 * An incident event's resource is the incident, as it is now, even when the body also carries a
 * `data.incident`; other events (notes, tasks, SLOs…) name theirs in `data.incident`. Null when the
 * envelope has no such object.
 */
export function incidentOfEvent(envelope: EventEnvelopeV2): JsonObject | null {
  const data: Partial<EventEnvelopeV2['data']> = isPlainObject(envelope?.data) ? envelope.data : {};
  const found = INCIDENT_RESOURCE_EVENTS.has(envelope?.event?.type) ? data.resource_data : data.incident;
  return isPlainObject(found) ? (found as JsonObject) : null;
}
