/**
 * Accepting events (POST /v3/events): validate, record, start the event's workflow.
 *
 * The store is the idempotency record: the event is inserted under a key derived from (org, event
 * id), and a collision means "accepted before", which outlives the workflow's retention and a
 * restart of Temporal. A small PendingStart mark is written before the event and deleted once the
 * workflow has started, so a post that crashed in between is finished by a repeat of the post or
 * by the sweeper. Both collections are insert/delete only on the hot path (see db/event.ts).
 */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Config } from '../config';
import { isDuplicateKey } from '../db/errors';
import { PendingStart, StoredEvent, eventKey } from '../db/event';
import { organizationName } from '../access/organizations';
import { withStoreRetry } from '../db/storeRetry';
import type { EventWorkflowInput } from '../shared/delivery';
import { startSearchAttributes } from '../shared/searchAttributes';
import type { EventEnvelopeV2 } from '../shared/types';
import { eventWorkflowId } from '../shared/workflowIds';
import type { eventDeliveryWorkflow } from '../workflows';
import { incidentOfEvent } from '../shared/incident';
import type { ParsedEnvelope } from './schema';

export interface Accepted {
  event_id: string;
  workflow_id: string;
  run_id: string | null;
  duplicate: boolean;
}

export interface IngestDeps {
  temporal: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>;
}

/**
 * A pending mark written this much later than the stored event belongs to a repeat of an event
 * accepted long ago (its run may be past Temporal's retention, at least a day): it is dropped,
 * never started.
 */
const REPEAT_OF_OLD_EVENT_MS = 60 * 60 * 1000;

/** Inserts the event record; false when it was there already. */
export async function insertEvent(organizationId: string, envelope: EventEnvelopeV2, body: string): Promise<boolean> {
  const incident = incidentOfEvent(envelope);
  try {
    await withStoreRetry(() =>
      StoredEvent.create({
        _id: eventKey(organizationId, envelope.event.id),
        organizationId,
        eventId: envelope.event.id,
        eventType: envelope.event.type,
        incidentId: typeof incident?.id === 'string' ? incident.id : null,
        eventAt: new Date(Date.parse(envelope.event.timestamp)),
        body,
        workflowId: eventWorkflowId(organizationId, envelope.event.id),
        receivedAt: new Date(),
      }),
    );
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** How long starting a workflow may take before the post answers 503. */
const START_DEADLINE_MS = 5000;

/** Starts the workflow (duplicate when it was started before), then drops the pending mark. */
export async function startEventWorkflow(deps: IngestDeps, organizationId: string, envelope: EventEnvelopeV2) {
  const workflowId = eventWorkflowId(organizationId, envelope.event.id);
  let runId: string | null;
  let duplicate = false;
  try {
    const input: EventWorkflowInput = { organizationId, envelope };
    // Bounded: unbounded, the client retries an unreachable server for some 20 s while the
    // producer waits. The event is stored by now, so a repost or the sweeper starts it later.
    const handle = await deps.temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      deps.temporal.workflow.start<typeof eventDeliveryWorkflow>('eventDeliveryWorkflow', {
        taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: startSearchAttributes(organizationId, envelope),
        staticSummary: `${envelope.event.type} ${envelope.event.id}`,
      }),
    );
    runId = handle.firstExecutionRunId;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    duplicate = true;
    runId = await runIdOf(deps, workflowId);
  }
  await withStoreRetry(() => PendingStart.deleteOne({ _id: eventKey(organizationId, envelope.event.id) }));
  return { workflowId, runId, duplicate };
}

const runIdOf = (deps: IngestDeps, workflowId: string) =>
  deps.temporal.workflow
    .getHandle(workflowId)
    .describe()
    .then((d) => d.runId)
    .catch(() => null);

/**
 * Finishes a pending mark whose event record exists: starts the workflow, unless the record is
 * much older than the mark (a repeat of an event accepted long ago), which is only dropped.
 */
export async function finishKnownEvent(
  deps: IngestDeps,
  organizationId: string,
  envelope: EventEnvelopeV2,
  markedAt: Date,
): Promise<{ workflowId: string; runId: string | null; duplicate: boolean }> {
  const key = eventKey(organizationId, envelope.event.id);
  const stored = await withStoreRetry(() => StoredEvent.findById(key, { receivedAt: 1 }).lean());
  if (stored && markedAt.getTime() - stored.receivedAt.getTime() > REPEAT_OF_OLD_EVENT_MS) {
    await withStoreRetry(() => PendingStart.deleteOne({ _id: key }));
    const workflowId = eventWorkflowId(organizationId, envelope.event.id);
    return { workflowId, runId: await runIdOf(deps, workflowId), duplicate: true };
  }
  return startEventWorkflow(deps, organizationId, envelope);
}

/**
 * Accepts one validated envelope for the caller's organization. `data.organization` becomes the
 * caller's organization. duplicate: true when the event was accepted before (its first body wins).
 */
export async function acceptEvent(deps: IngestDeps, organizationId: string, parsed: ParsedEnvelope): Promise<Accepted> {
  let envelope = parsed as unknown as EventEnvelopeV2;
  envelope.data.organization = { id: organizationId, name: await organizationName(organizationId) };
  const eventId = envelope.event.id;
  const key = eventKey(organizationId, eventId);
  let body = JSON.stringify(envelope);
  const markedAt = new Date();

  // 1. The mark first: from here on, a crash leaves something that gets the workflow started.
  let markIsOurs = true;
  try {
    await withStoreRetry(() => PendingStart.create({ _id: key, organizationId, body, receivedAt: markedAt }));
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    markIsOurs = false;
    // Another post of this event is in flight, or one crashed: continue from its snapshot.
    const mark = await withStoreRetry(() => PendingStart.findById(key).lean());
    if (mark) {
      body = mark.body;
      envelope = JSON.parse(body) as EventEnvelopeV2;
    }
  }
  // 2. The record: a collision means the event was accepted before.
  const isNew = await insertEvent(organizationId, envelope, body);
  // 3. Start (reject-duplicate), then drop the mark.
  const started =
    !isNew && markIsOurs
      ? await finishKnownEvent(deps, organizationId, envelope, markedAt)
      : await startEventWorkflow(deps, organizationId, envelope);
  return {
    event_id: eventId,
    workflow_id: started.workflowId,
    run_id: started.runId,
    duplicate: started.duplicate,
  };
}
