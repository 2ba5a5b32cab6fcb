import { Schema, model } from 'mongoose';

/**
 * The current failure streak of one (webhook, URL), for auto-disable (src/autoDisable/). `_id` is
 * `<webhookId>:<urlKey>`; the document exists from the first failed delivery of a streak until a
 * delivery to the URL succeeds or the webhook is enabled again (both delete it). Every change is
 * one single-document write, no transaction:
 * - a failed delivery counts once: `$inc` guarded by its delivery id in one of the `counted`
 *   slots (a retried activity finds its id there and does not count again). On FerretDB v1 two
 *   increments at the same moment can lose one (it applies an update in FerretDB and writes the
 *   document back), so there the count is a lower bound; MongoDB counts exactly;
 * - the disable is claimed by inserting a UrlDisableClaim (atomic everywhere); `disabledAt` and
 *   the fields after it are copied here by the winner, so a success no longer resets the streak.
 */
const urlFailureStreakSchema = new Schema(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    webhookId: { type: String, required: true },
    urlKey: { type: String, required: true },
    /** When the first failed delivery of the streak ended. */
    since: { type: Date, required: true },
    failures: { type: Number },
    lastFailureAt: { type: Date },
    /** `{s0..s15: deliveryId}`: the last delivery counted in each slot (slot from the id's hash). */
    counted: { type: Schema.Types.Mixed },
    disabledAt: { type: Date },
    /** The delivery whose failure disabled the URL. */
    disabledBy: { type: String },
  },
  { versionKey: false, minimize: false },
);
urlFailureStreakSchema.index({ organizationId: 1, webhookId: 1 });

export type UrlFailureStreakFields = {
  _id: string;
  organizationId: string;
  webhookId: string;
  urlKey: string;
  since: Date;
  failures?: number | null;
  lastFailureAt?: Date | null;
  counted?: Record<string, string> | null;
  disabledAt?: Date | null;
  disabledBy?: string | null;
};

export const UrlFailureStreak = model('UrlFailureStreak', urlFailureStreakSchema);
