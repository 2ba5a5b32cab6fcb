import type { Config } from '../config';
import { StoredEvent, eventKey, insertEventRecord } from '../db/event';
import { withStoreRetry } from '../db/storeRetry';
import { incidentOfEvent } from '../shared/incident';
import type { EventLag } from '../events/lag';
import type { EventPlan } from '../shared/delivery';
import type { EventEnvelopeV2 } from '../shared/types';
import { planEventDeliveries } from './webhooks';

/**
 * A record without a run id (written when the API stored events itself) this much older than now
 * belongs to an earlier acceptance of the event, not to this run.
 */
const LEGACY_RECORD_SAME_RUN_MS = 60 * 60 * 1000;

/**
 * Records the event (its idempotency record for DATA_RETENTION_DAYS and the source of the
 * latest-incident lookup), then plans its deliveries. A record already there from another run
 * means a repeat of an event accepted long ago, after Temporal forgot that run: nothing to
 * deliver. From this run (the task retried after a crash), the plan goes on as usual.
 */
async function recordEvent(input: RecordEventInput): Promise<boolean> {
  const { organizationId, envelope, runId } = input;
  const incident = incidentOfEvent(envelope);
  const outcome = await withStoreRetry(() =>
    insertEventRecord({
      organizationId,
      eventId: envelope.event.id,
      eventType: envelope.event.type,
      incidentId: typeof incident?.id === 'string' ? incident.id : null,
      eventAt: new Date(Date.parse(envelope.event.timestamp)),
      body: JSON.stringify(envelope),
      workflowId: input.workflowId,
      runId,
      receivedAt: new Date(),
    }),
  );
  if (outcome === 'inserted') return true;
  const _id = eventKey(organizationId, envelope.event.id);
  const earlier = await withStoreRetry(() => StoredEvent.findById(_id, { runId: 1, receivedAt: 1 }).lean());
  if (!earlier) return true; // deleted by retention in between: as good as new
  if (earlier.runId) return earlier.runId === runId;
  return Date.now() - earlier.receivedAt.getTime() < LEGACY_RECORD_SAME_RUN_MS;
}

export interface RecordEventInput {
  organizationId: string;
  envelope: EventEnvelopeV2;
  workflowId: string;
  runId: string;
  /** When the API accepted the event (epoch ms); runs started before it was passed have none. */
  acceptedAt?: number;
}

export function eventActivities(deps: { config: Config; eventLag?: EventLag }) {
  return {
    /** The first step of an event's run: record it, then plan (see recordEvent). */
    async recordAndPlanEvent(input: RecordEventInput): Promise<EventPlan> {
      if (input.acceptedAt !== undefined) deps.eventLag?.record(input.acceptedAt, input.workflowId);
      if (!(await recordEvent(input))) return { repeat: true, webhooks: [], retry: null };
      const plan = await planEventDeliveries(input.organizationId, input.envelope.event.type, deps.config);
      return { repeat: false, ...plan };
    },
  };
}
