import { Schema, model } from 'mongoose';

/**
 * Failure notifications. One document per failed (delivery, URL), `_id` derived from both, so a
 * retried mail activity finds its own mail instead of writing a second one. `stored` means no
 * SMTP server is configured: the mail is only readable through the API.
 */
const mailSchema = new Schema(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    webhookId: { type: String, required: true },
    url: { type: String, required: true },
    to: { type: [String], default: [] },
    subject: { type: String, required: true },
    text: { type: String, required: true },
    status: { type: String, enum: ['pending', 'sent', 'stored', 'error', 'rejected'], required: true },
    error: { type: String, default: null },
    sentAt: { type: Date, default: null },
  },
  { versionKey: false, timestamps: { createdAt: 'created_at', updatedAt: false } },
);
mailSchema.index({ organizationId: 1, webhookId: 1, created_at: -1 });
/** The retention sweep deletes by age across organizations (src/retention/sweep.ts). */
mailSchema.index({ created_at: 1 });

export const FailureMail = model('FailureMail', mailSchema);

/**
 * At most one failure mail per (webhook, URL) per window. `_id` is derived from the pair; a mail
 * may be sent when `lastAt` is older than the window, or when the same delivery already holds the
 * slot (a retry of its own mail activity). Claimed with one conditional upsert, no transaction.
 */
const mailThrottleSchema = new Schema(
  {
    _id: { type: String, required: true },
    holder: { type: String, required: true },
    lastAt: { type: Date, required: true },
  },
  { versionKey: false },
);

export const MailThrottle = model('MailThrottle', mailThrottleSchema);
