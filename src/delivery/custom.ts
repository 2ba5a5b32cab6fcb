/**
 * The seam between deliveries and the Jsonnet template engine (src/templates): a custom payload
 * is the template rendered with the event's v2 payload as `root`; the body is its compact JSON.
 */
import { templateRenderDuration } from '../metrics/registry';
import type { EventEnvelopeV2 } from '../shared/types';
import {
  formatTemplateError,
  sharedTemplateEngine,
  type RenderOptions,
  type RenderOwner,
  type TemplateConfig,
} from '../templates/engine';

/** A template that does not render (syntax, runtime error, limits): retrying cannot help. */
export class TemplateError extends Error {}

export async function renderCustomBody(
  source: string,
  envelope: EventEnvelopeV2,
  config: TemplateConfig,
  /** Whose render it is, for the engine's fair queue (see RenderOwner). */
  owner?: RenderOwner,
  options?: RenderOptions,
): Promise<string> {
  if (!source.trim()) throw new TemplateError('the webhook has no custom payload template');
  const stopTimer = templateRenderDuration.startTimer();
  let result: Awaited<ReturnType<ReturnType<typeof sharedTemplateEngine>['render']>>;
  try {
    result = await sharedTemplateEngine(config).render(source, envelope, owner, options);
  } catch (err) {
    stopTimer({ result: 'error' });
    throw err;
  }
  stopTimer({ result: result.ok ? 'ok' : 'error' });
  if (!result.ok) throw new TemplateError(formatTemplateError(result.error));
  return result.body;
}
