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
  REDELIVERY_WORKFLOW_TASK_TIMEOUT,
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
/** Batches of starts a recover has running at once (each a second after the one before). */
const MAX_BATCHES_IN_FLIGHT = 4;

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

  const read = (after: RecoverInput['cursor']) =>
    recoverSteps.findRecoverCandidates({
      organizationId: input.organizationId,
      webhookId: input.webhookId,
      since: input.since,
      until: input.until,
      after: after ?? null,
      limit: Math.max(RECOVER_PAGE_SIZE, input.perSecond),
    });
  // Batches are started a second apart without waiting for the one before (a batch of starts takes
  // a while on a busy server), at most MAX_BATCHES_IN_FLIGHT at once; the next page is read while
  // this one's batches go out.
  const inFlight = new Set<Promise<void>>();
  let nextBatchAt = 0;
  let pending = read(cursor);
  for (;;) {
    const page = await pending;
    progress.pages += 1;
    progress.found += page.candidates.length;
    progress.scanned = page.next === null;
    const continueNow =
      page.next !== null &&
      (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > RECOVER_HISTORY_LIMIT);
    if (page.next !== null && !continueNow) pending = read(page.next);
    for (let i = 0; i < page.candidates.length; i += input.perSecond) {
      if (Date.now() < nextBatchAt) await sleep(nextBatchAt - Date.now());
      // At most perSecond starts a second: the next batch a full second after this one.
      nextBatchAt = Date.now() + 1000;
      const batch = (async () => {
        const done = await recoverSteps.startRecoverDeliveries({
          organizationId: input.organizationId,
          webhookId: input.webhookId,
          recoverId: input.recoverId,
          recoverWorkflowId,
          candidates: page.candidates.slice(i, i + input.perSecond),
        });
        progress.started += done.started;
        progress.skipped += done.already;
        report();
      })();
      inFlight.add(batch);
      void batch.then(() => inFlight.delete(batch));
      if (inFlight.size >= MAX_BATCHES_IN_FLIGHT) await Promise.race(inFlight);
    }
    if (page.next === null) break;
    cursor = page.next;
    if (!page.candidates.length) report();
    if (continueNow) {
      // Between pages, its batches done, so a continued run starts exactly at the next page; the
      // memo goes along, so the API reads progress between the runs too.
      await Promise.all(inFlight);
      await makeContinueAsNewFunc<typeof recoverWorkflow>({
        memo: memo(),
        workflowTaskTimeout: REDELIVERY_WORKFLOW_TASK_TIMEOUT,
      })({ ...input, cursor, progress });
    }
  }
  await Promise.all(inFlight);
  report();
  return progress;
}
