/**
 * The mail sent when the last attempt of a delivery to one URL has failed, at most one per
 * (webhook, URL) per FAILURE_MAIL_WINDOW_MS.
 */
import crypto from 'node:crypto';
import { isDuplicateKey } from '../db/errors';
import { FailureMail, MailThrottle } from '../db/mail';
import type { Mailer } from './mailer';
import { isFinal, putInOutbox, sendFromOutbox, type MailResult } from './outbox';

export interface FailureReport {
  organizationId: string;
  webhookId: string;
  webhookName: string;
  mailIds: string[];
  url: string;
  method: string;
  eventId: string;
  eventType: string;
  /** The delivery (webhook-id) that failed; with the URL it names the mail. */
  deliveryId: string;
  attempts: number;
  lastError: string;
  failedAt: Date;
}

const hash = (s: string) => crypto.createHash('sha256').update(s).digest('hex').slice(0, 32);

export function composeFailureMail(r: FailureReport): { subject: string; text: string } {
  return {
    subject: `Webhook "${r.webhookName}" failed to deliver ${r.eventType} to ${r.url}`,
    text: [
      `Every attempt to deliver an event to one of your webhook's URLs has failed.`,
      ``,
      `Webhook:    ${r.webhookName} (${r.webhookId})`,
      `URL:        ${r.method} ${r.url}`,
      `Event:      ${r.eventType} (${r.eventId})`,
      `Delivery:   ${r.deliveryId}`,
      `Attempts:   ${r.attempts}`,
      `Last error: ${r.lastError}`,
      `Failed at:  ${r.failedAt.toISOString()}`,
      ``,
      `Every attempt is listed in GET /v3/extensions/event-webhooks/${r.webhookId}/logs.`,
      `At most one such mail is sent per webhook and URL in each notification window.`,
    ].join('\n'),
  };
}

/**
 * Claims the (webhook, URL) slot for this delivery: true when no mail went out within the window
 * or this delivery already holds the slot. A losing upsert fails on the unique `_id`.
 */
async function claimWindow(r: FailureReport, windowMs: number, now: Date): Promise<boolean> {
  const _id = hash(`${r.webhookId}\n${r.url}`);
  const holder = `${r.deliveryId}\n${r.url}`;
  try {
    await MailThrottle.updateOne(
      { _id, $or: [{ lastAt: { $lte: new Date(now.getTime() - windowMs) } }, { holder }] },
      { $set: { holder, lastAt: now } },
      { upsert: true },
    );
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/**
 * Sends (or, without SMTP, stores) the failure mail for one failed delivery. Idempotent: a retry
 * finds the mail document of its delivery and only finishes what is left; a crash between the
 * SMTP answer and the status update can repeat the mail, never lose it.
 */
export async function notifyFailure(
  r: FailureReport,
  deps: { mailer: Mailer | null; windowMs: number; now?: Date },
): Promise<MailResult> {
  if (!r.mailIds.length) return 'no_recipients';
  const now = deps.now ?? new Date();
  const _id = hash(`${r.deliveryId}\n${r.url}`);
  let mail = await FailureMail.findById(_id).lean();
  if (mail && isFinal(mail.status)) return mail.status;
  if (!mail) {
    if (!(await claimWindow(r, deps.windowMs, now))) return 'throttled';
    const { subject, text } = composeFailureMail(r);
    mail = await putInOutbox({
      _id,
      organizationId: r.organizationId,
      webhookId: r.webhookId,
      url: r.url,
      to: r.mailIds,
      subject,
      text,
    });
  }
  return sendFromOutbox(mail, deps.mailer, 'failure mail');
}
