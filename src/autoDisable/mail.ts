/**
 * The one mail saying a URL (or its webhook) was disabled, to the webhook's failure-mail
 * addresses. Kept with the failure mails (GET …/mails shows it), under an `_id` derived from the
 * disable itself, so a retried activity finishes its own mail instead of writing a second.
 */
import crypto from 'node:crypto';
import { isFinal, putInOutbox, sendFromOutbox, type MailResult } from '../mail/outbox';
import type { Mailer } from '../mail/mailer';

export interface DisableReport {
  organizationId: string;
  webhookId: string;
  webhookName: string;
  mailIds: string[];
  url: string;
  method: string;
  scope: 'url' | 'webhook';
  since: Date;
  failures: number;
  disabledAt: Date;
}

const WEBHOOKS = '/v3/extensions/event-webhooks';

export function composeDisableMail(r: DisableReport): { subject: string; text: string } {
  const what = r.scope === 'url' ? `URL ${r.url} of webhook "${r.webhookName}"` : `webhook "${r.webhookName}"`;
  return {
    subject: `Disabled: ${what}, failing since ${r.since.toISOString()}`,
    text: [
      `Every delivery to one of your webhook's URLs has failed for a while, so it was disabled.`,
      ``,
      `Webhook:         ${r.webhookName} (${r.webhookId})`,
      `URL:             ${r.method} ${r.url}`,
      `Failing since:   ${r.since.toISOString()}`,
      `Failed:          ${r.failures} deliveries in a row (each after all its retries)`,
      `Disabled at:     ${r.disabledAt.toISOString()}`,
      r.scope === 'url'
        ? `Disabled:        this URL only; the webhook's other URLs still receive events.`
        : `Disabled:        the webhook (this was its only URL still receiving events).`,
      ``,
      `Once the receiver works again, enable the webhook (this resets the failure count):`,
      `  curl -X POST <your hookrelay API>${WEBHOOKS}/${r.webhookId}/enable -H "Authorization: Bearer $KEY"`,
      `or Enable in the web console (Settings → Webhooks).`,
      ``,
      `The failed calls: GET ${WEBHOOKS}/${r.webhookId}/logs?outcome=failed`,
    ].join('\n'),
  };
}

const mailIdOf = (r: DisableReport) =>
  crypto
    .createHash('sha256')
    .update(`auto-disable\n${r.webhookId}\n${r.url}\n${r.disabledAt.toISOString()}`)
    .digest('hex')
    .slice(0, 32);

/**
 * Sends (or, without SMTP, stores) the disable mail once. A retry after a crash between the SMTP
 * answer and the status update can repeat it, never lose it; transient SMTP errors throw (the
 * activity retries), a permanent rejection (5xx) is final.
 */
export async function sendDisableMail(r: DisableReport, deps: { mailer: Mailer | null }): Promise<MailResult> {
  if (!r.mailIds.length) return 'no_recipients';
  const _id = mailIdOf(r);
  const { subject, text } = composeDisableMail(r);
  const mail = await putInOutbox({
    _id,
    organizationId: r.organizationId,
    webhookId: r.webhookId,
    url: r.url,
    to: r.mailIds,
    subject,
    text,
  });
  if (isFinal(mail.status)) return mail.status;
  return sendFromOutbox(mail, deps.mailer, 'disable mail');
}
