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
 * `root` is always the v2 payload). No event types means `incident.triggered`. One at a time and
 * stopping at the first failure: a template that loops costs one time limit, not one per event
 * type, and one request cannot fill the engine's shared queue.
 */
export async function validateTemplate(
  engine: TemplateEngine,
  source: string,
  eventTypes: readonly string[],
): Promise<ValidationResult> {
  const types = eventTypes.length ? [...new Set(eventTypes)] : ['incident.triggered'];
  const rendered: { event_type: string; value: Json }[] = [];
  for (const eventType of types) {
    const result = await engine.render(source, sampleEvent(V1_FROM_V2[eventType] ?? eventType));
    if (!result.ok) return { ok: false, event_type: eventType, error: result.error };
    rendered.push({ event_type: eventType, value: result.value });
  }
  return { ok: true, rendered };
}
