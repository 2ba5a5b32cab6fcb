/**
 * Accepting events (POST /v3/events): validate, then start the event's workflow; 202 once Temporal
 * has it. No store write on this path: Temporal is the durable record of an accepted event, and
 * its workflow id, derived from (org, event id), makes a repeated post a duplicate for as long as
 * Temporal keeps the run. The workflow records the event in the store as its first step
 * (`recordAndPlanEvent`), and that record answers for longer (DATA_RETENTION_DAYS): a repeat
 * posted after Temporal forgot the run starts a run that finds the record and delivers nothing.
 */
import type { Client } from '@temporalio/client';
import { organizationName } from '../access/organizations';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Config } from '../config';
import type { EventWorkflowInput } from '../shared/delivery';
import { refuseIfAnsweredAtDeadline } from '../shared/requestScope';
import { startSearchAttributes } from '../shared/searchAttributes';
import type { EventEnvelopeV2 } from '../shared/types';
import { eventWorkflowId } from '../shared/workflowIds';
import type { eventDeliveryWorkflow } from '../workflows';
import { eventRunsStarted, eventsAccepted, temporalErrors } from '../metrics/registry';
import { EagerStartGate } from './eagerGate';
import type { EventLag } from './lag';
import type { ParsedEnvelope } from './schema';

export interface Accepted {
  event_id: string;
  workflow_id: string;
  run_id: string | null;
  duplicate: boolean;
}

export interface IngestDeps {
  temporal: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'EAGER_START_QUEUE_WAIT_MS'>;
  /** A worker shares this client's connection: the first workflow task can come straight back. */
  eagerStart?: boolean;
  /** That worker's lag: an accepted event waits there until its run's first step. */
  eventLag?: EventLag;
}

const WORKFLOW_TASK_TIMEOUT = '30s';

/** How long starting a workflow may take before the post answers 503 (under REQUEST_DEADLINE_MS). */
const START_DEADLINE_MS = 2000;
/**
 * An eager start is not given up as soon: its first task comes back in the answer, and an answer
 * no one reads leaves the run waiting out its task timeout (30 s). The post is answered 503 at its
 * own deadline all the same; the start goes on, and the producer's repost finds it made.
 */
const EAGER_START_DEADLINE_MS = 10_000;

/** This process's eager starts (see EagerStartGate). */
const eagerGate = new EagerStartGate();

/**
 * Accepts one validated envelope for the caller's organization. `data.organization` becomes the
 * caller's organization. duplicate: true when the event was accepted before (its first body wins).
 * Temporal unreachable or slow: the error propagates (503), nothing was accepted, and the
 * producer's repost is safe. A post answered 503 at its deadline while it waited on the store starts
 * no workflow (src/shared/requestScope.ts): the producer posts again, and starts for every post a
 * frozen store held back would all hit Temporal at once when it thaws.
 */
export async function acceptEvent(deps: IngestDeps, organizationId: string, parsed: ParsedEnvelope): Promise<Accepted> {
  const envelope = parsed as unknown as EventEnvelopeV2;
  envelope.data.organization = { id: organizationId, name: await organizationName(organizationId) };
  const eventId = envelope.event.id;
  const workflowId = eventWorkflowId(organizationId, eventId);
  refuseIfAnsweredAtDeadline();
  const startedAt = Date.now();
  const queueWaitLimit = deps.config.EAGER_START_QUEUE_WAIT_MS;
  const runsWaitInQueue = queueWaitLimit > 0 && (deps.eventLag?.oldestWaitMs(startedAt) ?? 0) > queueWaitLimit;
  const eager = deps.eagerStart === true && eagerGate.allows(startedAt) && !runsWaitInQueue;
  const startEnded = eagerGate.track(startedAt);
  // Counted before the call: an eager first step can run before the start's answer is read.
  deps.eventLag?.accepting(workflowId, startedAt);
  try {
    const input: EventWorkflowInput = { organizationId, envelope, acceptedAt: Date.now() };
    // Bounded: unbounded, the client retries an unreachable server for some 20 s while the
    // producer waits.
    const handle = await deps.temporal.connection
      .withDeadline(Date.now() + (eager ? EAGER_START_DEADLINE_MS : START_DEADLINE_MS), () =>
        deps.temporal.workflow.start<typeof eventDeliveryWorkflow>('eventDeliveryWorkflow', {
          taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
          workflowId,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: startSearchAttributes(organizationId, envelope),
          staticSummary: `${envelope.event.type} ${envelope.event.id}`,
          requestEagerStart: eager,
          // The first task runs the first attempts as local activities; a stalled store can hold
          // it for many seconds, and a timed-out task is run again, sending those requests twice
          // (measured with the store frozen 15 s: 6.7 % extra copies at 10 s, none at 60 s). The
          // price: a worker that dies mid-task is noticed after this long, not 10 s.
          workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
        }),
      )
      .finally(() => startEnded());
    eventsAccepted.inc({ event_type: envelope.event.type, duplicate: 'no' });
    eventRunsStarted.inc({ eager: handle.eagerlyStarted ? 'yes' : 'no' });
    return { event_id: eventId, workflow_id: workflowId, run_id: handle.firstExecutionRunId, duplicate: false };
  } catch (err) {
    deps.eventLag?.notAccepted(workflowId);
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      temporalErrors.inc({ operation: 'start_workflow' });
      throw err;
    }
    const runId = await deps.temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then((d) => d.runId)
      .catch(() => null);
    eventsAccepted.inc({ event_type: envelope.event.type, duplicate: 'yes' });
    return { event_id: eventId, workflow_id: workflowId, run_id: runId, duplicate: true };
  }
}
