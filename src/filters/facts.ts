/**
 * The normalized, pure view of an event that filters are evaluated against. Workflow code imports
 * this file, so it uses no Node built-ins and no I/O.
 *
 * Tags are a list of `{key, value}` rather than an object because json-logic `var` paths split on
 * dots and tag keys may contain them.
 */
import { incidentOfEvent } from '../shared/incident';
import { isPlainObject } from '../shared/json';
import type { EventEnvelopeV2, Json, JsonObject } from '../shared/types';

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5', 'UNSET'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface FilterFacts {
  team: { id: string | null; name: string | null };
  service: { id: string | null; name: string | null; slug: string | null };
  alert_source: { id: string | null; type: string | null; short_name: string | null };
  priority: Priority;
  tags: { key: string; value: string }[];
}

const asObject = (v: Json | undefined): JsonObject => (isPlainObject(v) ? v : {});

const asString = (v: Json | undefined): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;

function priorityOf(v: Json | undefined): Priority {
  const p = asString(v)?.trim().toUpperCase();
  return (PRIORITIES as readonly string[]).includes(p ?? '') ? (p as Priority) : 'UNSET';
}

/** Tags arrive as `null` or `{key: {value, color}}`; a bare `{key: "value"}` is accepted too. */
function tagsOf(v: Json | undefined): FilterFacts['tags'] {
  return Object.entries(asObject(v)).map(([key, t]) => ({
    key,
    value: asString(isPlainObject(t) ? t.value : t) ?? '',
  }));
}

export function filterFacts(envelope: EventEnvelopeV2): FilterFacts {
  const data = asObject(envelope?.data as Json | undefined);
  const incident = incidentOfEvent(envelope) ?? {};
  const team = asObject(data.team);
  const service = asObject(incident.service);
  const alertSource = asObject(incident.alert_source);
  return {
    team: { id: asString(team.id), name: asString(team.name) },
    service: { id: asString(service.id), name: asString(service.name), slug: asString(service.slug) },
    alert_source: {
      id: asString(alertSource.id),
      type: asString(alertSource.type),
      short_name: asString(alertSource.short_name),
    },
    priority: priorityOf(incident.priority),
    tags: tagsOf(incident.tags),
  };
}
