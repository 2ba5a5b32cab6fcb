import { proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import {
  STORE_ACTIVITY_RETRY,
  STORE_ACTIVITY_TIMEOUT,
  runStatusOf,
  type DeliveryRunResult,
  type ManualFireInput,
} from '../shared/delivery';
import type { Activities } from '../activities';
import { SA_DELIVERY_STATUS } from '../shared/searchAttributes';
import { deliverToWebhook } from './deliverWebhook';

// Planning is one short read: as a local activity it runs inside the workflow task, with no
// extra round trip through the server.
const planner = proxyLocalActivities<Activities>({
  startToCloseTimeout: STORE_ACTIVITY_TIMEOUT,
  retry: STORE_ACTIVITY_RETRY,
});

/**
 * One manual webhook fired for one incident: the same deliveries as an event's (retries, logs,
 * failure mail), to every URL of that webhook. The workflow id carries a fire id, so every fire is
 * its own run. A webhook deleted or disabled before the run starts delivers nothing (`no_match`).
 */
export async function manualFireWorkflow(input: ManualFireInput): Promise<DeliveryRunResult> {
  const plan = await planner.planManualFire({ organizationId: input.organizationId, webhookId: input.webhookId });
  const deliveries = (
    await Promise.all(
      plan.webhooks.map((webhook) =>
        deliverToWebhook(
          {
            organizationId: input.organizationId,
            eventId: input.envelope.event.id,
            envelope: input.envelope,
            trigger: 'manual',
            retry: plan.retry,
            ...(input.acceptedAt !== undefined && { acceptedAt: input.acceptedAt }),
          },
          webhook,
        ),
      ),
    )
  ).flat();
  const status = runStatusOf(deliveries);
  upsertSearchAttributes([{ key: SA_DELIVERY_STATUS, value: status }]);
  return { status, deliveries };
}
