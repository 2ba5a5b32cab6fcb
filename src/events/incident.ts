/** The incident an event is about, and the latest known state of an incident from stored events. */
import { StoredEvent } from '../db/event';
import { INCIDENT_RESOURCE_EVENTS } from '../shared/catalog';
import type { EventEnvelopeV2, JsonObject } from '../shared/types';

/** The incident an event carries: its resource for incident events, else `data.incident`. */
export function incidentOfEvent(envelope: EventEnvelopeV2): JsonObject | null {
  if (INCIDENT_RESOURCE_EVENTS.has(envelope.event.type)) return envelope.data.resource_data;
  return envelope.data.incident ?? null;
}

/**
 * The latest known state of an incident: the incident and team of its newest event (by
 * `event.timestamp`), or null when no event mentioned it.
 */
export async function latestIncident(
  organizationId: string,
  incidentId: string,
): Promise<{ incident: JsonObject; team: { id: string; name: string } } | null> {
  const newest = await StoredEvent.findOne({ organizationId, incidentId }, { body: 1 })
    .sort({ eventAt: -1, receivedAt: -1 })
    .lean();
  if (!newest) return null;
  const envelope = JSON.parse(newest.body) as EventEnvelopeV2;
  const incident = incidentOfEvent(envelope);
  return incident ? { incident, team: envelope.data.team } : null;
}
