import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../config';
import { findOwnedById } from '../db/byId';
import { Webhook } from '../db/webhook';
import { recentlyPlanned } from '../delivery/recentWebhooks';
import { TemplateError, renderCustomBody } from '../delivery/custom';
import { RENDER_FAILED, type DeliveryTrigger } from '../shared/delivery';
import type { EventEnvelopeV2 } from '../shared/types';

export function templateActivities(deps: { config: Config }) {
  return {
    /**
     * The custom payload of a webhook for an event: its Jsonnet template rendered with the v2
     * payload as `root`. A template error is non-retryable (PayloadRenderFailed); a store error is
     * retried. Rendering is pure, so a retry renders the same body.
     */
    async renderCustomPayload(input: {
      organizationId: string;
      webhookId: string;
      envelope: EventEnvelopeV2;
      /** Whose render: an event's, local and first, takes the template its plan read a moment before. */
      trigger?: DeliveryTrigger;
    }): Promise<string> {
      const { isLocal, attempt } = Context.current().info;
      const step = { trigger: input.trigger, isLocal, first: attempt === 1 };
      const webhook =
        recentlyPlanned(step, input.organizationId, input.webhookId) ??
        (await findOwnedById(Webhook, input.webhookId, input.organizationId, { custom_payload: 1 }));
      if (!webhook)
        throw ApplicationFailure.create({ type: RENDER_FAILED, message: 'webhook deleted', nonRetryable: true });
      try {
        return await renderCustomBody(webhook.custom_payload ?? '', input.envelope, deps.config, input, {
          waitWhenBusy: true,
        });
      } catch (err) {
        if (err instanceof TemplateError) {
          throw ApplicationFailure.create({ type: RENDER_FAILED, message: err.message, nonRetryable: true });
        }
        throw err;
      }
    },
  };
}
