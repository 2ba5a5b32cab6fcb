import fs from 'node:fs';
import path from 'node:path';
import { EVENT_CATALOG } from '../shared/catalog';
import type { EventEnvelopeV2, JsonObject } from '../shared/types';

/**
 * A built-in sample v2 event for every event type of the catalog: Squadcast's published examples
 * (fixtures/, copied from their docs) where they exist, and for the rest a sample derived from
 * a sibling fixture in the same shape. Used by "test webhook" and template validation.
 */
const fixturesDir = path.join(__dirname, 'fixtures', 'v2');

const FIXTURE_FILE: Record<string, string> = {
  'incident.triggered': 'incident-triggered.json',
  'incident.acknowledged': 'incident-acknowledged.json',
  'incident.resolved': 'incident-resolved.json',
  'incident.reassigned': 'incident-reassigned.json',
  'incident.communication_channel_created': 'incident-communication-channel-created.json',
  'incident.communication_channel_updated': 'incident-communication-channel-updated.json',
  'incident.communication_channel_deleted': 'incident-communication-channel-deleted.json',
  'incident.incident_notes_created': 'incident-notes-created.json',
  'incident.incident_notes_updated': 'incident-notes-updated.json',
  'incident.incident_notes_deleted': 'incident-notes-deleted.json',
  'incident.incident_notes_starred': 'incident-note-starred.json',
  'incident.incident_notes_unstarred': 'incident-note-unstarred.json',
  'incident.tags_updated': 'incident-tags-updated.json',
  'incident.incident_task_created': 'incident-task-created.json',
  'incident.incident_task_updated': 'incident-task-updated.json',
  'incident.incident_task_deleted': 'incident-task-deleted.json',
  'incident.incident_task_completed': 'incident-task-completed.json',
  'incident.slo_violating_incident_created': 'slo-violating-incident.json',
  'incident.slo_violating_incident_false_positive_marked': 'slo-violation-false-positive.json',
  'incident.slo_violating_incident_false_positive_unmarked': 'slo-violation-unmark-false-positive.json',
  'incident.slo_violating_incident_error_budget_spent_updated': 'slo-violating-incident-update-error-budget.json',
};

const cache = new Map<string, EventEnvelopeV2>();

function readFixture(file: string): EventEnvelopeV2 {
  return JSON.parse(fs.readFileSync(path.join(fixturesDir, file), 'utf8')) as EventEnvelopeV2;
}

/** Events Squadcast publishes no example for: built from a fixture of the same incident. */
function derivedSample(eventType: string): EventEnvelopeV2 {
  const base = readFixture('incident-task-completed.json');
  const incident = base.data.incident as JsonObject;
  const at = base.event.timestamp;
  const withResource = (resource: string, resource_data: JsonObject): EventEnvelopeV2 => ({
    ...base,
    event: { ...base.event, id: `sample-${eventType}`, type: eventType, resource },
    data: { ...base.data, resource_type: resource, resource_data, incident },
  });
  if (eventType === 'incident.incident_task_uncompleted') {
    const task = structuredClone(base.data.resource_data);
    for (const t of task.tasks as JsonObject[]) t.completed = false;
    return withResource('incident_task', task);
  }
  if (eventType.startsWith('incident.postmortem_')) {
    return withResource('postmortem', {
      id: '633e9000fbb04a577527b500',
      incident_id: incident.id,
      title: `Postmortem: ${String(incident.message)}`,
      status: eventType === 'incident.postmortem_created' ? 'draft' : 'published',
      url: `${String(incident.url)}/postmortem`,
      created_by: base.data.resource_data.created_by,
      created_at: at,
      updated_at: at,
    });
  }
  if (eventType === 'incident.statuspage_updated') {
    return withResource('statuspage', {
      id: '633e9100fbb04a577527b510',
      incident_id: incident.id,
      status_page: { id: '633e9100fbb04a577527b511', name: 'Public status' },
      status: 'investigating',
      message: 'We are investigating elevated error rates.',
      created_at: at,
    });
  }
  throw new Error(`no sample for unknown event type ${eventType}`);
}

/** A fresh copy of the sample event of `eventType` (a v2 event type from the catalog). */
export function sampleEvent(eventType: string): EventEnvelopeV2 {
  let sample = cache.get(eventType);
  if (!sample) {
    if (!EVENT_CATALOG.v2.some((e) => e.event_type === eventType)) {
      throw new Error(`no sample for unknown event type ${eventType}`);
    }
    const file = FIXTURE_FILE[eventType];
    sample = file ? readFixture(file) : derivedSample(eventType);
    cache.set(eventType, sample);
  }
  return structuredClone(sample);
}
