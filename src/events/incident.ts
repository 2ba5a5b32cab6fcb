/** The latest known state of an incident from stored events. */
import { StoredEvent } from '../db/event';
import { incidentOfEvent } from '../shared/incident';
import type { EventEnvelopeV2, JsonObject } from '../shared/types';

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
