import {
  makeContinueAsNewFunc,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { STORE_ACTIVITY_RETRY, STORE_ACTIVITY_TIMEOUT, runStatusOf, type DeliveryRunResult } from '../shared/delivery';
import {
  RECOVER_MEMO,
  RECOVER_PAGE_SIZE,
  emptyRecoverProgress,
  type RecoverInput,
  type RecoverProgress,
  type RedeliveryInput,
} from '../shared/redelivery';
import { SA_DELIVERY_STATUS } from '../shared/searchAttributes';
import { deliverToWebhook } from './deliverWebhook';

// Planning is one short read: as a local activity it runs inside the workflow task.
const planner = proxyLocalActivities<Activities>({
  startToCloseTimeout: STORE_ACTIVITY_TIMEOUT,
  retry: STORE_ACTIVITY_RETRY,
});
// A page of the log, and a batch of starts, are regular activities: a few history events each,
// however many deliveries they hold (child workflows would add events per delivery).
const recoverSteps = proxyActivities<Activities>({ startToCloseTimeout: '2 min', retry: STORE_ACTIVITY_RETRY });

/**
 * One (delivery, URL) sent again (redeliver, or one of a recover's): the event as stored, the
 * payload the webhook's configuration builds now, the same `webhook-id` as the original delivery
 * (it derives from the event and webhook), fresh timestamps and signatures, and the usual
 * retries, logs and failure mail, through the same code as first deliveries. Nothing is sent
 * when the webhook, the URL or the stored event is gone (`no_match`).
 */
export async function redeliveryWorkflow(input: RedeliveryInput): Promise<DeliveryRunResult> {
  const plan = await planner.planRedelivery(input);
  if (!plan.ok) {
    upsertSearchAttributes([{ key: SA_DELIVERY_STATUS, value: 'no_match' }]);
    setCurrentDetails(`nothing sent: ${plan.reason}`);
    return { status: 'no_match', deliveries: [] };
  }
  const deliveries = await deliverToWebhook(
    {
      organizationId: input.organizationId,
      eventId: input.eventId,
      envelope: plan.envelope,
      trigger: input.trigger,
      retry: plan.retry,
      round: input.round,
    },
    plan.webhook,
  );
  const status = runStatusOf(deliveries);
  upsertSearchAttributes([{ key: SA_DELIVERY_STATUS, value: status }]);
  return { status, deliveries };
}

/** Past this many history events a recover run continues as new: its replay stays cheap. */
const RECOVER_HISTORY_LIMIT = 2_000;

/**
 * A recover: pages through the webhook's log for deliveries whose final outcome in [since, until)
 * was `failed` (an activity per page), and starts one redelivery workflow each (an activity per
 * batch), at most `perSecond` a second; their retries may outlive this run. Idempotent: its own id
 * comes from (org, webhook, since, until), and each redelivery's from (recover, delivery, URL) with
 * reject-duplicate, so a delivery met twice is started once. Progress is in its memo (read by the
 * API) and its current details (the Web UI); it continues as new when its history grows.
 */
export async function recoverWorkflow(input: RecoverInput): Promise<RecoverProgress> {
  const progress = input.progress ?? emptyRecoverProgress();
  const recoverWorkflowId = workflowInfo().workflowId;
  let cursor = input.cursor ?? null;
  const memo = () => ({
    [RECOVER_MEMO]: { ...progress, since: input.since, until: input.until, webhookId: input.webhookId },
  });
  const report = () => {
    upsertMemo(memo());
    setCurrentDetails(
      `found ${progress.found} failed deliveries, started ${progress.started}, ` +
        `already started ${progress.skipped}${progress.scanned ? '' : ' (still reading the log)'}`,
    );
  };
  report();

  // At most perSecond starts a second: a batch at once, the next one a second later (across pages too).
  let nextBatchAt = 0;
  for (;;) {
    const page = await recoverSteps.findRecoverCandidates({
      organizationId: input.organizationId,
      webhookId: input.webhookId,
      since: input.since,
      until: input.until,
      after: cursor,
      limit: Math.max(RECOVER_PAGE_SIZE, input.perSecond),
    });
    progress.pages += 1;
    progress.found += page.candidates.length;
    progress.scanned = page.next === null;
    for (let i = 0; i < page.candidates.length; i += input.perSecond) {
      if (Date.now() < nextBatchAt) await sleep(nextBatchAt - Date.now());
      nextBatchAt = Date.now() + 1000;
      const batch = await recoverSteps.startRecoverDeliveries({
        organizationId: input.organizationId,
        webhookId: input.webhookId,
        recoverId: input.recoverId,
        recoverWorkflowId,
        candidates: page.candidates.slice(i, i + input.perSecond),
      });
      progress.started += batch.started;
      progress.skipped += batch.already;
      report();
    }
    if (page.next === null) break;
    cursor = page.next;
    // Between pages, so a continued run starts exactly at the next one.
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > RECOVER_HISTORY_LIMIT) {
      // The memo goes along, so the API reads progress between the runs too.
      await makeContinueAsNewFunc<typeof recoverWorkflow>({ memo: memo() })({ ...input, cursor, progress });
    }
  }
  report();
  return progress;
}
