/**
 * Accepting events (POST /v3/events): validate, store under a key derived from (org, event id),
 * remember the incident, then start the event's workflow. The store is the idempotency record:
 * it outlives the workflow's retention and a restart of Temporal. A post that crashed between
 * storing and starting is started by a repeat of the same post or by the sweeper.
 */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { z } from 'zod';
import type { Config } from '../config';
import { StoredEvent, eventKey } from '../db/event';
import { IncidentSnapshot, incidentKey } from '../db/incident';
import { Organization } from '../db/organization';
import { INCIDENT_RESOURCE_EVENTS, V2_EVENT_TYPES, catalogEntry } from '../shared/catalog';
import type { EventWorkflowInput } from '../shared/delivery';
import { SA_EVENT_ID, SA_EVENT_TYPE, SA_ORGANIZATION } from '../shared/searchAttributes';
import type { EventEnvelopeV2, JsonObject } from '../shared/types';
import { eventWorkflowId } from '../shared/workflowIds';
import { withStoreRetry } from './storeRetry';

const jsonObject = z.record(z.string(), z.unknown());
const idName = z.looseObject({ id: z.string().min(1), name: z.string() });

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
 * Keeps the incident's latest state; an event older than the stored one changes nothing. Every
 * query names only `_id`: FerretDB's SQLite backend pushes nothing else down and would scan the
 * collection. The price is a read-then-write race: two events of one incident accepted within
 * the same milliseconds may leave the older state until the incident's next event.
 */
export async function rememberIncident(organizationId: string, envelope: EventEnvelopeV2): Promise<void> {
  const incident = incidentOfEvent(envelope);
  if (!incident || typeof incident.id !== 'string') return;
  const eventAt = new Date(Date.parse(envelope.event.timestamp));
  const _id = incidentKey(organizationId, incident.id);
  const state = {
    organizationId,
    incidentId: incident.id,
    incident: JSON.stringify(incident),
    team: JSON.stringify(envelope.data.team),
    organizationName: envelope.data.organization.name,
    eventId: envelope.event.id,
    eventAt,
  };
  for (let tries = 0; tries < 2; tries++) {
    const stored = await withStoreRetry(() => IncidentSnapshot.findById(_id, { eventAt: 1 }).lean());
    if (stored && stored.eventAt.getTime() > eventAt.getTime()) return;
    if (stored) {
      await withStoreRetry(() => IncidentSnapshot.updateOne({ _id }, { $set: state }));
      return;
    }
    try {
      await withStoreRetry(() => IncidentSnapshot.create({ _id, ...state }));
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err; // inserted meanwhile: compare again
    }
  }
}

async function startEventWorkflow(deps: IngestDeps, organizationId: string, envelope: EventEnvelopeV2) {
  const workflowId = eventWorkflowId(organizationId, envelope.event.id);
  let runId: string | null;
  let duplicate = false;
  try {
    const input: EventWorkflowInput = { organizationId, envelope };
    const handle = await deps.temporal.workflow.start('eventDeliveryWorkflow', {
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: SA_ORGANIZATION, value: organizationId },
        { key: SA_EVENT_TYPE, value: envelope.event.type },
        { key: SA_EVENT_ID, value: envelope.event.id },
      ],
      staticSummary: `${envelope.event.type} ${envelope.event.id}`,
    });
    runId = handle.firstExecutionRunId;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    duplicate = true;
    runId = await deps.temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then((d) => d.runId)
      .catch(() => null);
  }
  await StoredEvent.updateOne(
    { _id: eventKey(organizationId, envelope.event.id) },
    { $set: { startedAt: new Date(), runId } },
  );
  return { workflowId, runId, duplicate };
}

/**
 * Accepts one validated envelope for the caller's organization. `data.organization` becomes the
 * caller's organization. Returns duplicate: true when the event was accepted before.
 */
export async function acceptEvent(
  deps: IngestDeps,
  organizationId: string,
  parsed: z.infer<typeof eventEnvelopeSchema>,
): Promise<Accepted> {
  const envelope = parsed as unknown as EventEnvelopeV2;
  envelope.data.organization = { id: organizationId, name: await organizationName(organizationId) };
  const eventId = envelope.event.id;
  const _id = eventKey(organizationId, eventId);
  const workflowId = eventWorkflowId(organizationId, eventId);
  let toStart = envelope;
  try {
    await withStoreRetry(() =>
      StoredEvent.create({
        _id,
        organizationId,
        eventId,
        eventType: envelope.event.type,
        body: JSON.stringify(envelope),
        workflowId,
        receivedAt: new Date(),
      }),
    );
    await rememberIncident(organizationId, envelope);
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    const stored = await withStoreRetry(() => StoredEvent.findById(_id).lean().orFail());
    if (stored.startedAt)
      return { event_id: eventId, workflow_id: workflowId, run_id: stored.runId ?? null, duplicate: true };
    // Stored by a post that never started it: start the stored snapshot now.
    toStart = JSON.parse(stored.body) as EventEnvelopeV2;
    await rememberIncident(organizationId, toStart);
  }
  const started = await startEventWorkflow(deps, organizationId, toStart);
  return { event_id: eventId, workflow_id: started.workflowId, run_id: started.runId, duplicate: started.duplicate };
}

/**
 * Starts events that were stored but never started (a crash between the two steps), once they
 * are older than `graceMs` (so a post still in flight finishes its own start). Returns how many.
 */
export async function startUnstartedEvents(deps: IngestDeps, graceMs = 30_000, batch = 100): Promise<number> {
  const stale = await StoredEvent.find({ startedAt: null, receivedAt: { $lt: new Date(Date.now() - graceMs) } })
    .sort({ receivedAt: 1 })
    .limit(batch)
    .lean();
  for (const ev of stale) {
    await startEventWorkflow(deps, ev.organizationId, JSON.parse(ev.body) as EventEnvelopeV2);
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
