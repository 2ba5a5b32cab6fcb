/** The API's sweeper: finishes event posts that crashed between storing the event and starting its workflow. */
import { PendingStart } from '../db/event';
import type { EventEnvelopeV2 } from '../shared/types';
import { finishKnownEvent, insertEvent, startEventWorkflow, type IngestDeps } from './accept';

/**
 * Finishes posts that crashed between marking an event and starting its workflow, once their mark
 * is older than `graceMs` (a post still in flight finishes its own). Returns how many it handled.
 */
export async function startUnstartedEvents(deps: IngestDeps, graceMs = 30_000, batch = 100): Promise<number> {
  const stale = await PendingStart.find({ receivedAt: { $lt: new Date(Date.now() - graceMs) } })
    .limit(batch)
    .lean();
  for (const mark of stale) {
    const envelope = JSON.parse(mark.body) as EventEnvelopeV2;
    const isNew = await insertEvent(mark.organizationId, envelope, mark.body);
    if (isNew) await startEventWorkflow(deps, mark.organizationId, envelope);
    else await finishKnownEvent(deps, mark.organizationId, envelope, mark.receivedAt);
  }
  return stale.length;
}

/** Runs the sweeper now and every `intervalMs` until the returned stop() is called. */
export function runSweeper(
  deps: IngestDeps,
  onError: (err: unknown) => void,
  intervalMs = 60_000,
  graceMs = 30_000,
): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      while ((await startUnstartedEvents(deps, graceMs)) > 0);
    } catch (err) {
      onError(err);
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
