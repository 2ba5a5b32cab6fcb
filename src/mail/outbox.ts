/**
 * The mail outbox both of the service's mails go through (failure mail, auto-disable mail): a mail
 * row written once under an id that names what it reports, then sent (or, without SMTP, stored) with
 * its status kept on the row, so a retried activity never sends it twice nor loses it.
 */
import { FailureMail } from '../db/mail';
import type { Mailer } from './mailer';

export type MailResult = 'sent' | 'stored' | 'throttled' | 'no_recipients' | 'rejected';

export interface OutboxMail {
  _id: string;
  organizationId: string;
  webhookId: string;
  url: string;
  to: string[];
  subject: string;
  text: string;
}

/**
 * What may be said about an SMTP failure outside the organization's own data: nodemailer's codes
 * (`EENVELOPE`, `EAUTH`, the SMTP response code, the command), never its message, which can quote
 * recipient addresses.
 */
export function mailErrorSummary(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; command?: unknown };
  const parts: string[] = [];
  if (typeof e.code === 'string' && /^[A-Z0-9_]{1,40}$/.test(e.code)) parts.push(e.code);
  if (typeof e.responseCode === 'number') parts.push(`SMTP ${e.responseCode}`);
  if (typeof e.command === 'string' && /^[A-Z ]{1,20}$/.test(e.command)) parts.push(`on ${e.command}`);
  return parts.length ? parts.join(', ') : 'mail transport error';
}

/** The row of `mail`, written now unless one exists under its id (then that one, as it is). */
export async function putInOutbox(mail: OutboxMail) {
  return FailureMail.findOneAndUpdate(
    { _id: mail._id },
    { $setOnInsert: { ...mail, status: 'pending' } },
    { upsert: true, new: true, lean: true },
  ).orFail();
}

/** Whether the row is done with: sent, stored or refused for good. */
export const isFinal = (status: string | undefined): status is 'sent' | 'stored' | 'rejected' =>
  status === 'sent' || status === 'stored' || status === 'rejected';

/**
 * Sends an outbox row (or stores it without SMTP) and records how it went. A permanent rejection
 * (SMTP 5xx: the address or the message refused) will not pass with retries: recorded, and final.
 * Any other error is recorded on the row (it may name recipients, and only the organization reads
 * rows) and thrown as a summary (what is thrown ends up in workflow history), so the activity retries.
 */
export async function sendFromOutbox(
  mail: { _id: string; to: string[]; subject: string; text: string },
  mailer: Mailer | null,
  kind: string,
): Promise<MailResult> {
  const { _id } = mail;
  if (!mailer) {
    await FailureMail.updateOne({ _id }, { $set: { status: 'stored' } });
    return 'stored';
  }
  try {
    await mailer.send({ to: mail.to, subject: mail.subject, text: mail.text });
  } catch (err) {
    const code = (err as { responseCode?: unknown } | null)?.responseCode;
    const rejected = typeof code === 'number' && code >= 500 && code < 600;
    await FailureMail.updateOne({ _id }, { $set: { status: rejected ? 'rejected' : 'error', error: String(err) } });
    if (rejected) return 'rejected';
    // eslint-disable-next-line preserve-caught-error -- no cause on purpose: Temporal records the cause chain
    throw new Error(`${kind} ${_id} not sent: ${mailErrorSummary(err)}`);
  }
  await FailureMail.updateOne({ _id }, { $set: { status: 'sent', sentAt: new Date(), error: null } });
  return 'sent';
}
