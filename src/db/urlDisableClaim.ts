import { Schema, model } from 'mongoose';

/**
 * One document per disable of a (webhook, URL) by auto-disable, `_id` `<streak id>@<streak start>`:
 * inserting it is how one delivery (of any number racing) wins the disable. An insert on a unique
 * `_id` is atomic on FerretDB v1 too, where a conditional update is not (it reads, changes the
 * document in FerretDB, then writes it back by `_id`, so two updates can both match).
 * The winner's retried activity finds its own claim and finishes the disable and the mail.
 */
const urlDisableClaimSchema = new Schema(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    webhookId: { type: String, required: true },
    urlKey: { type: String, required: true },
    /** The delivery whose failure won the disable. */
    deliveryId: { type: String, required: true },
    since: { type: Date, required: true },
    /** Failed deliveries counted when the disable was claimed. */
    failures: { type: Number, required: true },
    at: { type: Date, required: true },
    reason: { type: String, required: true },
  },
  { versionKey: false },
);
urlDisableClaimSchema.index({ organizationId: 1, webhookId: 1 });

export type UrlDisableClaimFields = {
  _id: string;
  organizationId: string;
  webhookId: string;
  urlKey: string;
  deliveryId: string;
  since: Date;
  failures: number;
  at: Date;
  reason: string;
};

export const UrlDisableClaim = model('UrlDisableClaim', urlDisableClaimSchema);
