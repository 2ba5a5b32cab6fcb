import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import { SA_DELIVERY_STATUS, SA_WEBHOOK_IDS } from '../shared/searchAttributes';
import type { RunStatus } from '../shared/types';

/**
 * The WebhookIds search attribute of an event's run (eventDeliveryWorkflowV2), set with its final
 * status in one upsert when the run ends in its first workflow task, as nearly every run does: each
 * upsert is a history event and a mutable-state change on the server. A delivery that goes on to
 * wait (a retry's timer or activity, a rate limit's slot, a failure mail) shows the ids first, so
 * runs in progress are found by `WebhookIds` in the Web UI as before. Module state is the run's
 * own: the SDK gives each run fresh module state.
 */
let pendingIds: string[] | undefined;

/** The matched webhooks' ids, shown at the run's end or before its first wait. */
export function holdWebhookIds(ids: string[]): void {
  pendingIds = ids.length ? ids : undefined;
}

/** A delivery is about to wait beyond the run's first task: the held ids are shown now. */
export function showHeldWebhookIds(): void {
  if (!pendingIds) return;
  upsertSearchAttributes([{ key: SA_WEBHOOK_IDS, value: pendingIds }]);
  pendingIds = undefined;
}

/** The run's final status, with the ids if they are still held: one upsert. */
export function upsertFinalStatus(status: RunStatus): void {
  const pairs: SearchAttributeUpdatePair[] = [{ key: SA_DELIVERY_STATUS, value: status }];
  if (pendingIds) pairs.push({ key: SA_WEBHOOK_IDS, value: pendingIds });
  pendingIds = undefined;
  upsertSearchAttributes(pairs);
}
