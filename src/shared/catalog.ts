/**
 * The event catalog: every event a webhook may subscribe to, per payload version.
 * `event_class` is the v2 `event.resource`; `event_type` is the v1 `event_type` or v2 `event.type`.
 * The first 23 v2 names are Squadcast's; the postmortem ones are ours, in the same pattern.
 */
export type WebhookVersion = 'v1' | 'v2';

export interface CatalogEntry {
  event_class: string;
  event_type: string;
}

const v2: Record<string, string[]> = {
  incident: ['incident.triggered', 'incident.reassigned', 'incident.acknowledged', 'incident.resolved'],
  communication_channel: [
    'incident.communication_channel_created',
    'incident.communication_channel_updated',
    'incident.communication_channel_deleted',
  ],
  incident_notes: [
    'incident.incident_notes_created',
    'incident.incident_notes_updated',
    'incident.incident_notes_deleted',
    'incident.incident_notes_starred',
    'incident.incident_notes_unstarred',
  ],
  incident_tags: ['incident.tags_updated'],
  incident_task: [
    'incident.incident_task_created',
    'incident.incident_task_updated',
    'incident.incident_task_deleted',
    'incident.incident_task_completed',
    'incident.incident_task_uncompleted',
  ],
  postmortem: ['incident.postmortem_created', 'incident.postmortem_updated', 'incident.postmortem_deleted'],
  slo_violating_incident: [
    'incident.slo_violating_incident_created',
    'incident.slo_violating_incident_false_positive_marked',
    'incident.slo_violating_incident_false_positive_unmarked',
    'incident.slo_violating_incident_error_budget_spent_updated',
  ],
  statuspage: ['incident.statuspage_updated'],
};

/** v1 has only the four incident events; each is derived from the v2 event of the same name. */
export const V1_FROM_V2: Record<string, string> = {
  incident_triggered: 'incident.triggered',
  incident_reassigned: 'incident.reassigned',
  incident_acknowledged: 'incident.acknowledged',
  incident_resolved: 'incident.resolved',
};

export const EVENT_CATALOG: Record<WebhookVersion, CatalogEntry[]> = {
  v1: Object.keys(V1_FROM_V2).map((event_type) => ({ event_class: 'incident', event_type })),
  v2: Object.entries(v2).flatMap(([event_class, types]) => types.map((event_type) => ({ event_class, event_type }))),
};

export const V2_EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_CATALOG.v2.map((e) => e.event_type));

/** The v1 event_type a v2 event maps to, or undefined when v1 webhooks never see it. */
export function v1EventTypeFor(v2Type: string): string | undefined {
  return Object.keys(V1_FROM_V2).find((k) => V1_FROM_V2[k] === v2Type);
}

/** Events whose `resource_data` is the incident itself (no `data.incident`). */
export const INCIDENT_RESOURCE_EVENTS: ReadonlySet<string> = new Set([...v2.incident, ...v2.incident_tags]);

export function catalogEntry(version: WebhookVersion, eventType: string): CatalogEntry | undefined {
  return EVENT_CATALOG[version].find((e) => e.event_type === eventType);
}
