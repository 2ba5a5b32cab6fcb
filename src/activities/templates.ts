import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../config';
import { findOwnedById } from '../db/byId';
import { Webhook } from '../db/webhook';
import { TemplateError, renderCustomBody } from '../delivery/custom';
import { RENDER_FAILED } from '../shared/delivery';
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
    }): Promise<string> {
      const webhook = await findOwnedById(Webhook, input.webhookId, input.organizationId, { custom_payload: 1 });
      if (!webhook)
        throw ApplicationFailure.create({ type: RENDER_FAILED, message: 'webhook deleted', nonRetryable: true });
      try {
        return await renderCustomBody(webhook.custom_payload ?? '', input.envelope, deps.config, input);
      } catch (err) {
        if (err instanceof TemplateError) {
          throw ApplicationFailure.create({ type: RENDER_FAILED, message: err.message, nonRetryable: true });
        }
        throw err;
      }
    },
  };
}
