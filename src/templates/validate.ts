import { sampleEvent } from '../payloads/samples';
import { V1_FROM_V2 } from '../shared/catalog';
import type { Json } from '../shared/types';
import type { TemplateEngine, TemplateError } from './engine';

export type ValidationResult =
  | { ok: true; rendered: { event_type: string; value: Json }[] }
  /** `event_type` names the first event (in the order given) the template fails for. */
  | { ok: false; event_type: string; error: TemplateError };

/**
 * Renders a template against the built-in sample of every event type given (v2 `event.type`
 * strings, or v1 `event_type`s, which are rendered with the v2 event they derive from: a template's
 * `root` is always the v2 payload). No event types means `incident.triggered`.
 */
export async function validateTemplate(
  engine: TemplateEngine,
  source: string,
  eventTypes: readonly string[],
): Promise<ValidationResult> {
  const types = eventTypes.length ? [...new Set(eventTypes)] : ['incident.triggered'];
  const results = await Promise.all(types.map((t) => engine.render(source, sampleEvent(V1_FROM_V2[t] ?? t))));
  const rendered: { event_type: string; value: Json }[] = [];
  for (const [i, result] of results.entries()) {
    if (!result.ok) return { ok: false, event_type: types[i], error: result.error };
    rendered.push({ event_type: types[i], value: result.value });
  }
  return { ok: true, rendered };
}
