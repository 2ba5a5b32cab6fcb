import {
  executeChild,
  log,
  patched,
  proxyLocalActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { evaluateFilter } from '../filters/evaluate';
import {
  INLINE_DELIVERY_LIMIT,
  LOCAL_FIRST_ATTEMPT_PATCH,
  STORE_ACTIVITY_RETRY,
  STORE_ACTIVITY_TIMEOUT,
  runStatusOf,
  webhookChildWorkflowId,
  type DeliveryPlan,
  type DeliveryRunResult,
  type EventWorkflowInput,
  type UrlDeliveryResult,
  type WebhookPlan,
} from '../shared/delivery';
import { SA_DELIVERY_STATUS, SA_WEBHOOK_IDS, startSearchAttributes } from '../shared/searchAttributes';
import type { EventEnvelopeV2 } from '../shared/types';
import { deliverToWebhook, webhookDeliveryWorkflow, type DeliveryContext } from './deliverWebhook';

// Planning is one short read: as a local activity it runs inside the workflow task, with no
// extra round trip through the server.
const planner = proxyLocalActivities<Activities>({
  startToCloseTimeout: STORE_ACTIVITY_TIMEOUT,
  retry: STORE_ACTIVITY_RETRY,
});

function matches(webhook: WebhookPlan, envelope: EventEnvelopeV2): boolean {
  try {
    return evaluateFilter(webhook.filterLogic, envelope);
  } catch (err) {
    log.warn('webhook skipped: its stored filter does not evaluate', { webhookId: webhook.id, error: String(err) });
    return false;
  }
}

/** Inline for a small fan-out; one child workflow per webhook beyond INLINE_DELIVERY_LIMIT deliveries. */
export async function fanOut(ctx: DeliveryContext, webhooks: WebhookPlan[]): Promise<UrlDeliveryResult[]> {
  const total = webhooks.reduce((n, w) => n + w.targets.length, 0);
  if (total <= INLINE_DELIVERY_LIMIT) {
    return (await Promise.all(webhooks.map((w) => deliverToWebhook(ctx, w)))).flat();
  }
  const parent = workflowInfo().workflowId;
  const results = await Promise.all(
    webhooks.map((webhook) =>
      executeChild(webhookDeliveryWorkflow, {
        workflowId: webhookChildWorkflowId(parent, webhook.id),
        args: [{ ctx, webhook }],
        typedSearchAttributes: startSearchAttributes(ctx.organizationId, ctx.envelope, [webhook.id]),
      }),
    ),
  );
  return results.flatMap((r) => r.deliveries);
}

/**
 * One accepted event: plan (the org's enabled automatic webhooks subscribed to the type), filter
 * (json-logic, here in workflow code), build each payload, deliver to every (webhook, URL) in
 * parallel with retries, then record the final status as a search attribute. The workflow id
 * comes from (org, event id), so the event is delivered by one run only. It never fails on a
 * receiver's account: failed deliveries are results (logged, mailed), not errors.
 */
export async function eventDeliveryWorkflow(input: EventWorkflowInput): Promise<DeliveryRunResult> {
  const { organizationId, envelope } = input;
  let plan: DeliveryPlan;
  if (patched(LOCAL_FIRST_ATTEMPT_PATCH)) {
    const { workflowId, runId } = workflowInfo();
    const { acceptedAt } = input;
    const recorded = await planner.recordAndPlanEvent({ organizationId, envelope, workflowId, runId, acceptedAt });
    if (recorded.repeat) {
      upsertSearchAttributes([{ key: SA_DELIVERY_STATUS, value: 'duplicate' }]);
      return { status: 'duplicate', deliveries: [] };
    }
    plan = recorded;
  } else {
    plan = await planner.planEventDeliveries({ organizationId, eventType: envelope.event.type });
  }
  const matched = plan.webhooks.filter((w) => matches(w, envelope));
  if (matched.length) upsertSearchAttributes([{ key: SA_WEBHOOK_IDS, value: matched.map((w) => w.id) }]);
  const ctx: DeliveryContext = {
    organizationId,
    eventId: envelope.event.id,
    envelope,
    trigger: 'event',
    retry: plan.retry,
    ...(input.acceptedAt !== undefined && { acceptedAt: input.acceptedAt }),
  };
  const deliveries = await fanOut(ctx, matched);
  const status = runStatusOf(deliveries);
  upsertSearchAttributes([{ key: SA_DELIVERY_STATUS, value: status }]);
  return { status, deliveries };
}
