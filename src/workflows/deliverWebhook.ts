import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { standardBody } from '../payloads/standard';
import {
  ATTEMPT_TIMEOUT_MARGIN_MS,
  DELIVERY_CANCELLED,
  MAIL_ACTIVITY_RETRY,
  MAIL_ACTIVITY_TIMEOUT,
  RENDER_FAILED,
  STORE_ACTIVITY_RETRY,
  STORE_ACTIVITY_TIMEOUT,
  runStatusOf,
  type DeliveryRetryProfile,
  type DeliveryRunResult,
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
const mail = proxyActivities<Activities>({ startToCloseTimeout: MAIL_ACTIVITY_TIMEOUT, retry: MAIL_ACTIVITY_RETRY });

/** What every delivery of one event (or manual fire) shares. */
export interface DeliveryContext {
  organizationId: string;
  /** The event id, or the fire id of a manual fire. */
  eventId: string;
  envelope: EventEnvelopeV2;
  trigger: 'event' | 'manual';
  retry: DeliveryRetryProfile;
}

/** The innermost cause's message: what an admin needs in a log or a mail. */
function describeFailure(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

const isFailureOfType = (err: unknown, type: string) =>
  err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === type;

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
    workflowId: workflowInfo().workflowId,
  };
}

async function deliverToUrl(
  ctx: DeliveryContext,
  webhook: WebhookPlan,
  target: UrlTarget,
  body: string,
): Promise<UrlDeliveryResult> {
  const common = deliveryOf(ctx, webhook, target);
  const { deliverAttempt } = proxyActivities<Activities>({
    startToCloseTimeout: ctx.retry.attemptTimeoutMs + ATTEMPT_TIMEOUT_MARGIN_MS,
    retry: {
      initialInterval: ctx.retry.initialIntervalMs,
      backoffCoefficient: ctx.retry.backoffCoefficient,
      maximumInterval: ctx.retry.maximumIntervalMs,
      maximumAttempts: common.maxAttempts,
      nonRetryableErrorTypes: [DELIVERY_CANCELLED],
    },
    // The origin only: some URLs are credentials (Slack's incoming webhooks), and summaries are
    // what the Web UI shows first.
    summary: `${webhook.name}: ${target.method} ${target.origin}/…`,
  });
  try {
    await deliverAttempt({ ...common, body });
    return { webhookId: webhook.id, target, outcome: 'delivered' };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const error = describeFailure(err);
    if (isFailureOfType(err, DELIVERY_CANCELLED)) {
      return { webhookId: webhook.id, target, outcome: 'cancelled', error };
    }
    await mail.handleDeliveryFailure({ ...common, error });
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
    body =
      webhook.payloadType === 'custom'
        ? await store.renderCustomPayload({
            organizationId: ctx.organizationId,
            webhookId: webhook.id,
            envelope: ctx.envelope,
          })
        : standardBody(webhook.version, ctx.envelope);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const error = `payload could not be built: ${describeFailure(err)}`;
    return Promise.all(
      webhook.targets.map(async (target) => {
        await mail.handleDeliveryFailure({ ...deliveryOf(ctx, webhook, target), error, recordAttempt: true });
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
