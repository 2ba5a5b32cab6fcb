import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Config } from '../config';
import { findOwnedById } from '../db/byId';
import { StoredEvent, eventKey } from '../db/event';
import { Webhook } from '../db/webhook';
import { failedFinalDeliveries } from '../redelivery/candidates';
import type { DeliveryRetryProfile, WebhookPlan } from '../shared/delivery';
import {
  REDELIVERY_WORKFLOW_TASK_TIMEOUT,
  recoverDeliveryWorkflowId,
  type RecoverCandidate,
  type RecoverCursor,
  type RecoverPage,
  type RedeliveryInput,
} from '../shared/redelivery';
import { deliverySearchAttributes } from '../shared/searchAttributes';
import type { EventEnvelopeV2 } from '../shared/types';
import { PLAN_FIELDS, retryProfileOf, toPlan, type PlanDoc } from './webhooks';

/** What a redelivery sends with, or why it sends nothing. */
export type RedeliveryPlan =
  | { ok: true; envelope: EventEnvelopeV2; webhook: WebhookPlan; retry: DeliveryRetryProfile }
  | { ok: false; reason: string };

export function redeliveryActivities(deps: { config: Config }) {
  return {
    /**
     * The webhook as it is configured now, narrowed to the one URL, and the stored event: a
     * redelivery builds its payload from these. Nothing when the webhook is gone or disabled, the
     * URL removed, or the event no longer stored (retention). Read-only, so retried freely.
     */
    async planRedelivery(input: RedeliveryInput): Promise<RedeliveryPlan> {
      const [doc, event] = await Promise.all([
        findOwnedById(Webhook, input.webhookId, input.organizationId, { ...PLAN_FIELDS, enabled: 1 }),
        StoredEvent.findById(eventKey(input.organizationId, input.eventId), { body: 1 }).lean(),
      ]);
      if (!doc) return { ok: false, reason: 'webhook deleted' };
      if (!doc.enabled) return { ok: false, reason: 'webhook disabled' };
      if (!event) return { ok: false, reason: 'event no longer stored' };
      const plan = toPlan(doc as PlanDoc);
      const targets = plan.targets.filter((t) => t.key === input.urlKey);
      if (!targets.length) return { ok: false, reason: 'URL removed from the webhook' };
      return {
        ok: true,
        envelope: JSON.parse(event.body) as EventEnvelopeV2,
        webhook: { ...plan, targets },
        retry: retryProfileOf(deps.config),
      };
    },

    /**
     * Starts one redelivery per candidate of a recover (a batch: the workflow paces them), each
     * under a workflow id made from (recover, delivery, URL) with reject-duplicate, so a delivery
     * is started once per recover however often it is met (a page read again, this activity
     * retried). Returns how many were started now and how many had been already.
     */
    async startRecoverDeliveries(input: {
      organizationId: string;
      webhookId: string;
      recoverId: string;
      recoverWorkflowId: string;
      candidates: RecoverCandidate[];
    }): Promise<{ started: number; already: number }> {
      const { client } = Context.current();
      const outcomes = await Promise.all(
        input.candidates.map(async (c) => {
          const args: [RedeliveryInput] = [
            {
              organizationId: input.organizationId,
              webhookId: input.webhookId,
              eventId: c.eventId,
              urlKey: c.urlKey,
              trigger: 'recover',
              round: input.recoverId,
            },
          ];
          try {
            await client.workflow.start('redeliveryWorkflow', {
              taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
              workflowId: recoverDeliveryWorkflowId(input.recoverWorkflowId, c.deliveryId, c.urlKey),
              args,
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
              workflowTaskTimeout: REDELIVERY_WORKFLOW_TASK_TIMEOUT,
              typedSearchAttributes: deliverySearchAttributes(input.organizationId, c.eventType, c.eventId, [
                input.webhookId,
              ]),
              staticSummary: `recover ${input.recoverId}: ${c.eventType} ${c.eventId}`,
            });
            return true;
          } catch (err) {
            if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
            throw err;
          }
        }),
      );
      const started = outcomes.filter(Boolean).length;
      return { started, already: outcomes.length - started };
    },

    /** One page of a recover's window: see failedFinalDeliveries. */
    async findRecoverCandidates(input: {
      organizationId: string;
      webhookId: string;
      since: string;
      until: string;
      after: RecoverCursor | null;
      limit: number;
    }): Promise<RecoverPage> {
      return failedFinalDeliveries({
        organizationId: input.organizationId,
        webhookId: input.webhookId,
        since: new Date(input.since),
        until: new Date(input.until),
        after: input.after,
        limit: input.limit,
      });
    },
  };
}
