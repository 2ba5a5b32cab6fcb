import type { Config } from '../config';
import { findOwnedById } from '../db/byId';
import { Webhook } from '../db/webhook';
import { closeInterruptedAttempts, logNotAttempted } from '../delivery/attempt';
import { deliveryIdOf } from '../delivery/signing';
import { notifyFailure, type MailResult } from '../mail/failureMail';
import type { Mailer } from '../mail/mailer';
import type { HttpMethod } from '../shared/types';

export interface DeliveryFailure {
  organizationId: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  url: string;
  method: HttpMethod;
  maxAttempts: number;
  /** The last attempt's error, as the workflow saw it. */
  error: string;
  trigger: 'event' | 'manual';
  workflowId: string;
  /** No attempt was made (the payload could not be built): log one failed row for it. */
  recordAttempt?: boolean;
}

export function failureActivities(deps: { config: Config; mailer: Mailer | null }) {
  return {
    /**
     * After the last attempt for a URL failed: logs attempts a dead worker left in flight,
     * then sends one failure mail to the webhook's mail_ids (at most one per webhook and URL per
     * FAILURE_MAIL_WINDOW_MS; stored only when SMTP is not configured). Idempotent per delivery and
     * URL, so Temporal may retry it until SMTP answers.
     */
    async handleDeliveryFailure(f: DeliveryFailure): Promise<MailResult> {
      const deliveryId = deliveryIdOf(f.organizationId, f.eventId, f.webhookId);
      if (f.recordAttempt) {
        await logNotAttempted(
          {
            organizationId: f.organizationId,
            webhookId: f.webhookId,
            deliveryId,
            eventId: f.eventId,
            eventType: f.eventType,
            url: f.url,
            method: f.method,
            attempt: 1,
            maxAttempts: f.maxAttempts,
            trigger: f.trigger,
            workflowId: f.workflowId,
          },
          f.error,
        );
      }
      await closeInterruptedAttempts(deliveryId, f.url, f.maxAttempts + 1, f.maxAttempts);
      const webhook = await findOwnedById(Webhook, f.webhookId, f.organizationId, { name: 1, mail_ids: 1 });
      if (!webhook) return 'no_recipients';
      return notifyFailure(
        {
          organizationId: f.organizationId,
          webhookId: f.webhookId,
          webhookName: webhook.name,
          mailIds: webhook.mail_ids ?? [],
          url: f.url,
          method: f.method,
          eventId: f.eventId,
          eventType: f.eventType,
          deliveryId,
          attempts: f.maxAttempts,
          lastError: f.error,
          failedAt: new Date(),
        },
        { mailer: deps.mailer, windowMs: deps.config.FAILURE_MAIL_WINDOW_MS },
      );
    },
  };
}
