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
import { z } from 'zod';
import type { Config } from '../config';
import { isDuplicateKey } from '../db/errors';
import { PendingStart, StoredEvent, eventKey } from '../db/event';
import { Organization } from '../db/organization';
import { INCIDENT_RESOURCE_EVENTS, V2_EVENT_TYPES, catalogEntry } from '../shared/catalog';
import type { EventWorkflowInput } from '../shared/delivery';
import { startSearchAttributes } from '../shared/searchAttributes';
import type { EventEnvelopeV2, JsonObject } from '../shared/types';
import { eventWorkflowId } from '../shared/workflowIds';
import { withStoreRetry } from './storeRetry';

const jsonObject = z.record(z.string(), z.unknown());
const idName = z.looseObject({ id: z.string().min(1), name: z.string() });

const MAX_EVENT_DEPTH = 64;

/** How deeply objects and arrays nest in a JSON value, without recursion (the value may be hostile). */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_EVENT_DEPTH) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

export const eventEnvelopeSchema = z
  .looseObject({
    version: z.literal('v2', { error: 'must be "v2"' }),
    event: z.looseObject({
      id: z.string().min(1).max(200),
      type: z.string().refine((t) => V2_EVENT_TYPES.has(t), { error: 'unknown event type' }),
      resource: z.string().min(1),
      timestamp: z.string().refine((t) => !Number.isNaN(Date.parse(t)), { error: 'must be an ISO 8601 time' }),
    }),
    data: z.looseObject({
      resource_data: jsonObject,
      resource_type: z.string().min(1),
      organization: z.looseObject({ id: z.string().optional(), name: z.string().optional() }).optional(),
      team: idName,
      incident: z.looseObject({ id: z.string().min(1) }).optional(),
    }),
  })
  .superRefine((env, ctx) => {
    if (nestingDepth(env.data) > MAX_EVENT_DEPTH) {
      // Deeper documents overflow the stack of JSON.stringify, BSON and templates further on.
      ctx.addIssue({ code: 'custom', path: ['data'], message: `is nested deeper than ${MAX_EVENT_DEPTH} levels` });
      return;
    }
    const entry = catalogEntry('v2', env.event.type);
    if (!entry) return;
    if (env.event.resource !== entry.event_class) {
      ctx.addIssue({ code: 'custom', path: ['event', 'resource'], message: `must be "${entry.event_class}"` });
    }
    if (env.data.resource_type !== env.event.resource) {
      ctx.addIssue({ code: 'custom', path: ['data', 'resource_type'], message: 'must equal event.resource' });
    }
    if (INCIDENT_RESOURCE_EVENTS.has(env.event.type)) {
      if (typeof env.data.resource_data.id !== 'string' || !env.data.resource_data.id) {
        ctx.addIssue({ code: 'custom', path: ['data', 'resource_data', 'id'], message: 'the incident needs an id' });
      }
    } else if (!env.data.incident) {
      ctx.addIssue({ code: 'custom', path: ['data', 'incident'], message: `required for ${env.event.type}` });
    }
  });

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

const orgNames = new Map<string, string>();
async function organizationName(organizationId: string): Promise<string> {
  let name = orgNames.get(organizationId);
  if (name === undefined) {
    const org = await Organization.findById(organizationId, { name: 1 }).lean();
    name = org?.name ?? '';
    orgNames.set(organizationId, name);
  }
  return name;
}

/** The incident an event carries: its resource for incident events, else `data.incident`. */
export function incidentOfEvent(envelope: EventEnvelopeV2): JsonObject | null {
  if (INCIDENT_RESOURCE_EVENTS.has(envelope.event.type)) return envelope.data.resource_data;
  return envelope.data.incident ?? null;
}

/**
 * The latest known state of an incident: the incident and team of its newest event (by
 * `event.timestamp`), or null when no event mentioned it.
 */
export async function latestIncident(
  organizationId: string,
  incidentId: string,
): Promise<{ incident: JsonObject; team: { id: string; name: string } } | null> {
  const newest = await StoredEvent.findOne({ organizationId, incidentId }, { body: 1 })
    .sort({ eventAt: -1, receivedAt: -1 })
    .lean();
  if (!newest) return null;
  const envelope = JSON.parse(newest.body) as EventEnvelopeV2;
  const incident = incidentOfEvent(envelope);
  return incident ? { incident, team: envelope.data.team } : null;
}

/** Inserts the event record; false when it was there already. */
async function insertEvent(organizationId: string, envelope: EventEnvelopeV2, body: string): Promise<boolean> {
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
async function startEventWorkflow(deps: IngestDeps, organizationId: string, envelope: EventEnvelopeV2) {
  const workflowId = eventWorkflowId(organizationId, envelope.event.id);
  let runId: string | null;
  let duplicate = false;
  try {
    const input: EventWorkflowInput = { organizationId, envelope };
    // Bounded: unbounded, the client retries an unreachable server for some 20 s while the
    // producer waits. The event is stored by now, so a repost or the sweeper starts it later.
    const handle = await deps.temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      deps.temporal.workflow.start('eventDeliveryWorkflow', {
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
async function finishKnownEvent(
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
export async function acceptEvent(
  deps: IngestDeps,
  organizationId: string,
  parsed: z.infer<typeof eventEnvelopeSchema>,
): Promise<Accepted> {
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
