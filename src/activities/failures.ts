import { afterFinalFailure } from '../autoDisable/check';
import type { Config } from '../config';
import { findOwnedById } from '../db/byId';
import { Webhook } from '../db/webhook';
import { closeInterruptedAttempts, loggedUrlOf, logNotAttempted } from '../delivery/attempt';
import { deliveryIdOf } from '../delivery/signing';
import { urlByKey } from '../delivery/target';
import { notifyFailure } from '../mail/failureMail';
import type { MailResult } from '../mail/outbox';
import type { Mailer } from '../mail/mailer';
import type { DeliveryFailure } from '../shared/delivery';
import { failureMails } from '../metrics/registry';

export function failureActivities(deps: { config: Config; mailer: Mailer | null }) {
  return {
    /**
     * After the last attempt for a URL failed: logs attempts a dead worker left in flight,
     * then sends one failure mail to the webhook's mail_ids (at most one per webhook and URL per
     * FAILURE_MAIL_WINDOW_MS; stored only when SMTP is not configured). Idempotent per delivery and
     * URL, so Temporal may retry it until SMTP answers. The URL is found by its key among the
     * webhook's URLs, else among this delivery's logged attempts; with neither (removed before
     * any attempt logged it), there is nothing to report on: `url_removed`.
     * A delivery that was attempted also counts into its URL's auto-disable streak first (see
     * src/autoDisable/check.ts: idempotent per delivery; the disable and its mail happen once);
     * an error there is thrown after the failure mail was tried, so a retry finishes both.
     */
    async handleDeliveryFailure(f: DeliveryFailure): Promise<MailResult | 'url_removed'> {
      try {
        const result = await notifyAfterFailure(f);
        failureMails.inc({ result });
        return result;
      } catch (err) {
        failureMails.inc({ result: 'error' });
        throw err;
      }
    },
  };

  async function notifyAfterFailure(f: DeliveryFailure): Promise<MailResult | 'url_removed'> {
    const deliveryId = deliveryIdOf(f.organizationId, f.eventId, f.webhookId);
    await closeInterruptedAttempts(deliveryId, f.urlKey, f.maxAttempts + 1, f.maxAttempts, f.round);
    const webhook = await findOwnedById(Webhook, f.webhookId, f.organizationId, { name: 1, mail_ids: 1, urls: 1 });
    if (!webhook) return 'no_recipients';
    const delivery = { organizationId: f.organizationId, webhookId: f.webhookId, deliveryId };
    const currentUrl = urlByKey(webhook.urls, f.urlKey);
    const url = currentUrl ?? (await loggedUrlOf(delivery, f.urlKey));
    if (!url) return 'url_removed';
    let autoDisableError: unknown = null;
    // A payload that could not be built never reached the URL: not the receiver's failure.
    if (currentUrl && !f.recordAttempt) {
      try {
        await afterFinalFailure(
          { organizationId: f.organizationId, webhookId: f.webhookId, url, urlKey: f.urlKey, deliveryId },
          { config: deps.config, mailer: deps.mailer },
        );
      } catch (err) {
        autoDisableError = err;
      }
    }
    if (f.recordAttempt) {
      await logNotAttempted(
        {
          ...delivery,
          eventId: f.eventId,
          eventType: f.eventType,
          url,
          method: f.method,
          attempt: 1,
          maxAttempts: f.maxAttempts,
          trigger: f.trigger,
          round: f.round,
          workflowId: f.workflowId,
        },
        f.error,
      );
    }
    const mailed = await notifyFailure(
      {
        organizationId: f.organizationId,
        webhookId: f.webhookId,
        webhookName: webhook.name,
        mailIds: webhook.mail_ids ?? [],
        url,
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
    if (autoDisableError) throw autoDisableError;
    return mailed;
  }
}
