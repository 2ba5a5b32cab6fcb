import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { standardBody } from '../payloads/standard';
import {
  ATTEMPT_HEARTBEAT_TIMEOUT_MS,
  ATTEMPT_TIMEOUT_MARGIN_MS,
  DELIVERY_CANCELLED,
  MAIL_ACTIVITY_RETRY,
  MAIL_ACTIVITY_TIMEOUT,
  LOCAL_FIRST_ATTEMPT_PATCH,
  RATE_LIMIT_PATCH,
  RENDER_FAILED,
  SLOT_LEAD_MS,
  SLOT_MISSED,
  STORE_ACTIVITY_RETRY,
  STORE_ACTIVITY_TIMEOUT,
  runStatusOf,
  slotToleranceMs,
  type DeliveryRequest,
  type DeliveryRetryProfile,
  type DeliveryTrigger,
  type DeliveryRunResult,
  type SlotMissedDetails,
  type UrlDeliveryResult,
  type UrlTarget,
  type WebhookPlan,
} from '../shared/delivery';
import { SA_DELIVERY_STATUS } from '../shared/searchAttributes';
import type { EventEnvelopeV2 } from '../shared/types';

const store = proxyActivities<Activities>({
  startToCloseTimeout: STORE_ACTIVITY_TIMEOUT,
  retry: { ...STORE_ACTIVITY_RETRY, nonRetryableErrorTypes: [RENDER_FAILED] },
});
// Rendering is pure and quick: as a local activity it stays inside the event's first workflow task.
const localStore = proxyLocalActivities<Activities>({
  startToCloseTimeout: STORE_ACTIVITY_TIMEOUT,
  retry: { ...STORE_ACTIVITY_RETRY, nonRetryableErrorTypes: [RENDER_FAILED] },
});
const mail = proxyActivities<Activities>({ startToCloseTimeout: MAIL_ACTIVITY_TIMEOUT, retry: MAIL_ACTIVITY_RETRY });

/** What every delivery of one event (or manual fire) shares. */
export interface DeliveryContext {
  organizationId: string;
  /** The event id, or the fire id of a manual fire. */
  eventId: string;
  envelope: EventEnvelopeV2;
  trigger: DeliveryTrigger;
  retry: DeliveryRetryProfile;
  /** When the API accepted the event (epoch ms), if its input says; only for the metric. */
  acceptedAt?: number;
  /** A redelivery's round (see DeliveryRequest.round); absent on a first delivery. */
  round?: string;
}

/** The innermost cause's message: what an admin needs in a log or a mail. */
function describeFailure(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** The activity's own failure: a regular activity's comes wrapped in an ActivityFailure, a local one's not. */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure ? failure : undefined;
}

const isFailureOfType = (err: unknown, type: string) => applicationFailureOf(err)?.type === type;

/** What identifies one (webhook, URL) delivery in activity inputs: the URL by its key only. */
function deliveryOf(ctx: DeliveryContext, webhook: WebhookPlan, target: UrlTarget) {
  return {
    organizationId: ctx.organizationId,
    eventId: ctx.eventId,
    eventType: ctx.envelope.event.type,
    webhookId: webhook.id,
    urlKey: target.key,
    method: target.method,
    maxAttempts: webhook.maxRetry + 1,
    trigger: ctx.trigger,
    // Only redeliveries have one: a first delivery's activity inputs stay exactly as before.
    ...(ctx.round ? { round: ctx.round } : {}),
    workflowId: workflowInfo().workflowId,
    ...(ctx.acceptedAt !== undefined && { acceptedAt: ctx.acceptedAt }),
  };
}

/** What a failed attempt reports: its number, and the delay a receiver's Retry-After asks for. */
function failedAttemptOf(err: unknown): { attempt?: number; retryAfterMs?: number } {
  const detail = applicationFailureOf(err)?.details?.[0] as { retryAfterMs?: unknown; attempt?: unknown } | undefined;
  return {
    attempt: typeof detail?.attempt === 'number' ? detail.attempt : undefined,
    retryAfterMs: typeof detail?.retryAfterMs === 'number' ? detail.retryAfterMs : undefined,
  };
}

/**
 * A workflow's first task has history length 3 (started, task scheduled, task started); more
 * means an earlier run of this task did not finish, and its local attempts may have been cut off.
 */
const FIRST_TASK_HISTORY_LENGTH = 3;

/** An attempt's failure that ends the delivery at once: cancelled, or refused for good. */
const isFinalFailure = (err: unknown) => applicationFailureOf(err)?.nonRetryable === true;

/**
 * All attempts as one regular activity with Temporal's retry policy. Runs started before the
 * local-first-attempt patch keep this path on replay, and it carries the retries after a failed
 * local first attempt (`firstAttempt` 2, with the backoff as if attempt 1 had been part of it).
 */
async function durableAttempts(
  ctx: DeliveryContext,
  request: DeliveryRequest,
  summary: string,
  firstAttempt: number,
): Promise<void> {
  const { deliverAttempt } = proxyActivities<Activities>({
    startToCloseTimeout: ctx.retry.attemptTimeoutMs + ATTEMPT_TIMEOUT_MARGIN_MS,
    heartbeatTimeout: ATTEMPT_HEARTBEAT_TIMEOUT_MS,
    retry: {
      initialInterval: ctx.retry.initialIntervalMs * ctx.retry.backoffCoefficient ** (firstAttempt - 1),
      backoffCoefficient: ctx.retry.backoffCoefficient,
      maximumInterval: ctx.retry.maximumIntervalMs,
      maximumAttempts: request.maxAttempts - firstAttempt + 1,
      nonRetryableErrorTypes: [DELIVERY_CANCELLED],
    },
    summary,
  });
  await deliverAttempt(firstAttempt === 1 ? request : { ...request, firstAttempt });
}

/**
 * The first attempt as a local activity, inside the workflow task that planned it: no round trip
 * through the server's task queues, so an event whose receivers answer costs one workflow task.
 * A failed first attempt waits on a durable timer (Retry-After or the first backoff interval),
 * then the remaining attempts run as a regular, server-retried activity.
 */
async function localFirstAttempt(ctx: DeliveryContext, request: DeliveryRequest, summary: string): Promise<void> {
  const { deliverAttempt } = proxyLocalActivities<Activities>({
    startToCloseTimeout: ctx.retry.attemptTimeoutMs + ATTEMPT_TIMEOUT_MARGIN_MS,
    retry: { maximumAttempts: 1 },
    summary,
  });
  let next: number;
  try {
    const afterRetriedTask = workflowInfo().historyLength > FIRST_TASK_HISTORY_LENGTH;
    await deliverAttempt(afterRetriedTask ? { ...request, afterRetriedTask } : request);
    return;
  } catch (err) {
    const failed = failedAttemptOf(err);
    next = (failed.attempt ?? 1) + 1;
    if (isCancellation(err) || isFinalFailure(err) || next > request.maxAttempts) throw err;
    // A Retry-After (already capped by RETRY_AFTER_CAP_MS) wins over the backoff, as in Temporal's retries.
    await sleep(failed.retryAfterMs ?? ctx.retry.initialIntervalMs * ctx.retry.backoffCoefficient ** (next - 2));
  }
  await durableAttempts(ctx, request, summary, next);
}

/**
 * The attempts to a rate-limited URL, each after a slot claimed in the store (so the limit holds
 * across workers and restarts) and a durable timer until shortly before it (SLOT_LEAD_MS; the
 * attempt waits out the rest in the worker): the wait shows in the Web UI as a timer with a
 * summary. The retries take slots too, so here the workflow runs the retry loop itself, one
 * activity per attempt, with the same backoff and Retry-After rule as Temporal's retries. An
 * attempt that reached its worker too late for its slot took the next free one (SlotMissed): the
 * workflow sleeps until that one, without claiming another.
 */
async function rateLimitedAttempts(
  ctx: DeliveryContext,
  request: DeliveryRequest,
  summary: string,
  perSecond: number,
): Promise<void> {
  // Regular activities, not local ones: a local attempt is run again when its workflow task is
  // (a worker stopping or overloaded), and with it the request.
  const { deliverAttempt } = proxyActivities<Activities>({
    startToCloseTimeout: ctx.retry.attemptTimeoutMs + ATTEMPT_TIMEOUT_MARGIN_MS,
    heartbeatTimeout: ATTEMPT_HEARTBEAT_TIMEOUT_MS,
    retry: { maximumAttempts: 1 },
    summary,
  });
  let taken: SlotMissedDetails | undefined;
  for (let attempt = 1; ;) {
    const { slotAt, waitMs } =
      taken ??
      (await localStore.claimDeliverySlot({
        organizationId: request.organizationId,
        webhookId: request.webhookId,
        urlKey: request.urlKey,
        perSecond,
      }));
    taken = undefined;
    if (waitMs > SLOT_LEAD_MS) {
      log.info('rate limit: waiting for a slot', { webhookId: request.webhookId, attempt, waitMs, perSecond });
      await sleep(waitMs - SLOT_LEAD_MS, {
        summary: `rate limit ${perSecond}/s: attempt ${attempt} waits for its slot`,
      });
    }
    const rateLimit = { perSecond, slotAt, startBy: slotAt + slotToleranceMs(perSecond) };
    try {
      await deliverAttempt({ ...request, rateLimit, ...(attempt > 1 ? { firstAttempt: attempt } : {}) });
      return;
    } catch (err) {
      if (isFailureOfType(err, SLOT_MISSED)) {
        // Runs from before the lead carry no slot in their SlotMissed: they claim a new one.
        taken = applicationFailureOf(err)?.details?.[0] as SlotMissedDetails | undefined;
        log.info('rate limit: slot missed, waiting for the one taken instead', {
          webhookId: request.webhookId,
          attempt,
        });
        continue;
      }
      if (isCancellation(err) || isFinalFailure(err) || attempt >= request.maxAttempts) throw err;
      attempt++;
      const backoff = ctx.retry.initialIntervalMs * ctx.retry.backoffCoefficient ** (attempt - 2);
      await sleep(failedAttemptOf(err).retryAfterMs ?? Math.min(backoff, ctx.retry.maximumIntervalMs));
    }
  }
}

/**
 * The failure mail, given up after its bounded retries (SMTP down for an hour): the delivery's
 * outcome stands, and the mail row says `error`.
 */
async function sendFailureMail(failure: Parameters<Activities['handleDeliveryFailure']>[0]): Promise<void> {
  try {
    await mail.handleDeliveryFailure(failure);
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('failure mail given up', { webhookId: failure.webhookId, error: describeFailure(err) });
  }
}

async function deliverToUrl(
  ctx: DeliveryContext,
  webhook: WebhookPlan,
  target: UrlTarget,
  body: string,
): Promise<UrlDeliveryResult> {
  const common = deliveryOf(ctx, webhook, target);
  // The origin only: some URLs are credentials (Slack's incoming webhooks), and summaries are
  // what the Web UI shows first.
  const summary = `${webhook.name}: ${target.method} ${target.origin}/…`;
  try {
    // Asked only for a limited URL, so unlimited ones' histories carry no marker for it.
    if (target.ratePerSecond && patched(RATE_LIMIT_PATCH)) {
      await rateLimitedAttempts(ctx, { ...common, body }, summary, target.ratePerSecond);
    } else if (patched(LOCAL_FIRST_ATTEMPT_PATCH)) await localFirstAttempt(ctx, { ...common, body }, summary);
    else await durableAttempts(ctx, { ...common, body }, summary, 1);
    return { webhookId: webhook.id, target, outcome: 'delivered' };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const error = describeFailure(err);
    if (isFailureOfType(err, DELIVERY_CANCELLED)) {
      return { webhookId: webhook.id, target, outcome: 'cancelled', error };
    }
    await sendFailureMail({ ...common, error });
    return { webhookId: webhook.id, target, outcome: 'failed', error };
  }
}

/**
 * Every URL of one webhook, in parallel: builds the body once (standard v1/v2 here, custom through
 * the template activity), then one retried delivery per URL. A template that does not render
 * fails every URL of the webhook at once (logged, mailed).
 */
export async function deliverToWebhook(ctx: DeliveryContext, webhook: WebhookPlan): Promise<UrlDeliveryResult[]> {
  let body: string;
  try {
    const render = { organizationId: ctx.organizationId, webhookId: webhook.id, envelope: ctx.envelope };
    body =
      webhook.payloadType !== 'custom'
        ? standardBody(webhook.version, ctx.envelope)
        : patched(LOCAL_FIRST_ATTEMPT_PATCH)
          ? await localStore.renderCustomPayload({ ...render, trigger: ctx.trigger })
          : await store.renderCustomPayload(render);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const error = `payload could not be built: ${describeFailure(err)}`;
    return Promise.all(
      webhook.targets.map(async (target) => {
        await sendFailureMail({ ...deliveryOf(ctx, webhook, target), error, recordAttempt: true });
        return { webhookId: webhook.id, target, outcome: 'failed' as const, error };
      }),
    );
  }
  return Promise.all(webhook.targets.map((target) => deliverToUrl(ctx, webhook, target, body)));
}

export interface WebhookDeliveryInput {
  ctx: DeliveryContext;
  webhook: WebhookPlan;
}

/**
 * The deliveries of one webhook for one event, as a child of the event's workflow when the
 * fan-out is large. Same retries, logs and mails as inline deliveries; never fails (a failed
 * delivery is a result, not an error).
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<DeliveryRunResult> {
  const deliveries = await deliverToWebhook(input.ctx, input.webhook);
  const status = runStatusOf(deliveries);
  upsertSearchAttributes([{ key: SA_DELIVERY_STATUS, value: status }]);
  return { status, deliveries };
}
