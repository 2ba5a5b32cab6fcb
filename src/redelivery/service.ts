/**
 * Redeliver and recover as the API asks for them: check the request against the caller's webhook
 * and log (another organization's look unknown), then start the workflow that sends
 * (src/workflows/redelivery.ts); and read a recover's progress back from Temporal.
 */
import crypto from 'node:crypto';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/common';
import mongoose from 'mongoose';
import { z } from 'zod';
import type { Config } from '../config';
import { DeliveryLog } from '../db/deliveryLog';
import { StoredEvent, eventKey } from '../db/event';
import type { WebhookDoc } from '../db/webhook';
import { originOf, urlByKey, urlKeyOf } from '../delivery/target';
import { retentionCutoff } from '../retention/sweep';
import { AppError, fieldErrors, type FieldError } from '../shared/errors';
import {
  REDELIVERY_WORKFLOW_TASK_TIMEOUT,
  RECOVER_MEMO,
  emptyRecoverProgress,
  recoverWorkflowId,
  redeliverWorkflowId,
  type RecoverInput,
  type RecoverProgress,
  type RedeliveryInput,
} from '../shared/redelivery';
import { SA_ORGANIZATION, SA_WEBHOOK_IDS, deliverySearchAttributes } from '../shared/searchAttributes';
import type { recoverWorkflow, redeliveryWorkflow } from '../workflows';

export interface RedeliveryDeps {
  temporal: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'DATA_RETENTION_DAYS' | 'RECOVER_DELIVERIES_PER_SECOND'>;
}

const unprocessable = (message: string, field: string, why: string) =>
  AppError.unprocessable(message, [{ field, message: why }]);

/** What a redeliver started (the 202 answer). */
export interface RedeliveryStarted {
  workflow_id: string;
  run_id: string;
  /** The `webhook-id` header: the original delivery's. */
  delivery_id: string;
  event_id: string;
  url: string;
  /** Part of the redelivery's log row ids; its rows carry it as `round`. */
  round: string;
  trigger: 'redeliver';
}

/**
 * Sends the event of one logged attempt to that attempt's URL again, now (see redeliveryWorkflow).
 * 404: no such row of this webhook in the caller's organization; 422: a test send, the webhook
 * disabled, the URL no longer on it, the event no longer stored; 409: one already running.
 */
export async function redeliver(deps: RedeliveryDeps, webhook: WebhookDoc, logId: string): Promise<RedeliveryStarted> {
  const webhookId = String(webhook._id);
  const organizationId = webhook.organizationId;
  // By `_id` alone, the organization and webhook checked here (see findOwnedById).
  const row = mongoose.isValidObjectId(logId)
    ? await DeliveryLog.findById(logId, {
        organizationId: 1,
        webhookId: 1,
        deliveryId: 1,
        eventId: 1,
        eventType: 1,
        url: 1,
        method: 1,
        trigger: 1,
      }).lean()
    : null;
  if (!row || row.organizationId !== organizationId || row.webhookId !== webhookId)
    throw AppError.notFound('delivery log row');
  if (row.trigger === 'test') {
    throw unprocessable('test sends are not redelivered', 'logId', 'is a test send, not a delivery of an event');
  }
  if (!webhook.enabled) throw unprocessable('webhook is disabled', 'id', 'is disabled; enable it to redeliver');
  const urlKey = urlKeyOf(row.url);
  if (!urlByKey(webhook.urls, urlKey)) {
    throw unprocessable('the URL is no longer on the webhook', 'url', "is no longer one of the webhook's URLs");
  }
  if (!(await StoredEvent.exists({ _id: eventKey(organizationId, row.eventId) }))) {
    throw unprocessable(
      'the event is no longer stored',
      'event_id',
      `is no longer stored (events are kept DATA_RETENTION_DAYS=${deps.config.DATA_RETENTION_DAYS} days; ` +
        'manual fires are not stored: fire the webhook again)',
    );
  }
  const round = `rd_${crypto.randomBytes(9).toString('base64url')}`;
  const workflowId = redeliverWorkflowId(organizationId, row.deliveryId, urlKey);
  const input: RedeliveryInput = {
    organizationId,
    webhookId,
    eventId: row.eventId,
    urlKey,
    trigger: 'redeliver',
    round,
  };
  try {
    const handle = await deps.temporal.workflow.start<typeof redeliveryWorkflow>('redeliveryWorkflow', {
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [input],
      // One at a time per (delivery, URL); once finished, it may be redelivered again.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      workflowTaskTimeout: REDELIVERY_WORKFLOW_TASK_TIMEOUT,
      typedSearchAttributes: deliverySearchAttributes(organizationId, row.eventType, row.eventId, [webhookId]),
      staticSummary: `redeliver ${row.eventType} ${row.eventId} to ${webhook.name}: ${row.method} ${originOf(row.url)}/…`,
    });
    return {
      workflow_id: workflowId,
      run_id: handle.firstExecutionRunId,
      delivery_id: row.deliveryId,
      event_id: row.eventId,
      url: row.url,
      round,
      trigger: 'redeliver',
    };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw AppError.conflict('a redelivery of this delivery to this URL is already running; wait for it to finish');
    }
    throw err;
  }
}

/** The body of `POST …/recover`: the schema that checks its shape (the API's document can show it). */
export const recoverRequestSchema = z.strictObject({
  since: z.iso.datetime({ offset: true }),
  until: z.iso.datetime({ offset: true }).optional(),
});

const ISO_EXPECTED = 'must be an ISO 8601 time with a time zone, e.g. 2026-12-01T00:00:00Z';

/** `since` and `until` checked: 400 for unknown fields, 422 naming the field for anything else. */
export function parseRecoverWindow(
  body: unknown,
  retentionDays: number,
  now: Date,
): { since: Date; until: Date | null } {
  const parsed = recoverRequestSchema.safeParse(body ?? {});
  const errors: FieldError[] = [];
  if (!parsed.success) {
    const unknown = fieldErrors(parsed.error).filter((e) => e.message === 'is not a known field');
    if (unknown.length) throw AppError.badRequest('invalid request body', unknown);
    for (const issue of parsed.error.issues) {
      const field = issue.path.map(String).join('.');
      const missing = (body as Record<string, unknown> | undefined)?.[field] === undefined;
      errors.push({ field, message: missing ? 'is required' : ISO_EXPECTED });
    }
  }
  const since = parsed.success ? new Date(parsed.data.since) : null;
  const until = parsed.success && parsed.data.until ? new Date(parsed.data.until) : null;
  const cutoff = retentionCutoff(retentionDays, now);
  if (since && cutoff && since < cutoff) {
    errors.push({
      field: 'since',
      message: `must be within the last ${retentionDays} days (DATA_RETENTION_DAYS): older logs are deleted`,
    });
  }
  if (until && until > now) errors.push({ field: 'until', message: 'must not be in the future' });
  if (since && since >= (until ?? now)) {
    errors.push(
      until ? { field: 'until', message: 'must be after since' } : { field: 'since', message: 'must be in the past' },
    );
  }
  if (errors.length || !since) {
    throw AppError.unprocessable(
      `invalid recover window: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
      errors,
    );
  }
  return { since, until };
}

/**
 * A recover's id: a hash of (organization, webhook, since, until as given), so the same request
 * always names the same workflow, and Temporal's workflow-id uniqueness answers a repeat with the
 * first run. Without `until`, the first request fixes it at its own time.
 */
export function recoverIdOf(organizationId: string, webhookId: string, since: Date, until: Date | null): string {
  const key = `${organizationId}\n${webhookId}\n${since.toISOString()}\n${until ? until.toISOString() : ''}`;
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 24);
}

export interface RecoverView extends RecoverProgress {
  recover_id: string;
  workflow_id: string;
  run_id: string | null;
  since: string;
  until: string;
  /** `running`, `completed`, or how the run ended otherwise (`failed`, `terminated`, …). */
  state: string;
  /** Found and not started yet (while `scanned` is false, more may still be found). */
  remaining: number;
}

interface RecoverMemo extends RecoverProgress {
  since: string;
  until: string;
  webhookId: string;
}

function viewOf(recoverId: string, d: WorkflowExecutionDescription, memo: RecoverMemo): RecoverView {
  const { since, until, webhookId: _webhookId, ...progress } = memo;
  const status = d.status.name;
  return {
    recover_id: recoverId,
    workflow_id: d.workflowId,
    run_id: d.runId,
    since,
    until,
    state: status === 'RUNNING' || status === 'CONTINUED_AS_NEW' ? 'running' : status.toLowerCase(),
    ...progress,
    remaining: Math.max(0, progress.found - progress.started - progress.skipped),
  };
}

/**
 * Starts the recover of `[since, until)` for this webhook (see recoverWorkflow), or finds the one a
 * previous identical request started (`duplicate: true`), which Temporal keeps for its namespace
 * retention; after that, a repeat is a new run, and only deliveries still failed are sent again.
 */
export async function startRecover(
  deps: RedeliveryDeps,
  webhook: WebhookDoc,
  body: unknown,
  now = new Date(),
): Promise<RecoverView & { duplicate: boolean }> {
  const { since, until } = parseRecoverWindow(body, deps.config.DATA_RETENTION_DAYS, now);
  const webhookId = String(webhook._id);
  const organizationId = webhook.organizationId;
  const recoverId = recoverIdOf(organizationId, webhookId, since, until);
  const workflowId = recoverWorkflowId(organizationId, recoverId);
  const input: RecoverInput = {
    organizationId,
    webhookId,
    recoverId,
    since: since.toISOString(),
    until: (until ?? now).toISOString(),
    perSecond: deps.config.RECOVER_DELIVERIES_PER_SECOND,
  };
  const memo: RecoverMemo = { ...emptyRecoverProgress(), since: input.since, until: input.until, webhookId };
  try {
    await deps.temporal.workflow.start<typeof recoverWorkflow>('recoverWorkflow', {
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [input],
      // A repeat of the request finds this run, even once it has finished.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowTaskTimeout: REDELIVERY_WORKFLOW_TASK_TIMEOUT,
      typedSearchAttributes: [
        { key: SA_ORGANIZATION, value: organizationId },
        { key: SA_WEBHOOK_IDS, value: [webhookId] },
      ],
      memo: { [RECOVER_MEMO]: memo },
      staticSummary: `recover failed deliveries of ${webhook.name} from ${input.since} to ${input.until}`,
    });
    return { ...(await recoverProgress(deps, webhook, recoverId)), duplicate: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { ...(await recoverProgress(deps, webhook, recoverId)), duplicate: true };
  }
}

/** A recover of this webhook by id (404 for another webhook's or another organization's). */
export async function recoverProgress(
  deps: RedeliveryDeps,
  webhook: WebhookDoc,
  recoverId: string,
): Promise<RecoverView> {
  if (!/^[0-9a-f]{24}$/.test(recoverId)) throw AppError.notFound('recover');
  const handle = deps.temporal.workflow.getHandle(recoverWorkflowId(webhook.organizationId, recoverId));
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw AppError.notFound('recover');
    throw err;
  }
  const memo = description.memo?.[RECOVER_MEMO] as RecoverMemo | undefined;
  if (!memo || memo.webhookId !== String(webhook._id)) throw AppError.notFound('recover');
  return viewOf(recoverId, description, memo);
}
