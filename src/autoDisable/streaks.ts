/**
 * Failure streaks of (webhook, URL) pairs in the store (see src/db/urlFailureStreak.ts and
 * src/db/urlDisableClaim.ts): count a failed delivery once, claim the disable once, reset on
 * success or re-enable. Single-document writes only (FerretDB v1 and MongoDB alike, no transactions).
 */
import crypto from 'node:crypto';
import { isDuplicateKey } from '../db/errors';
import { UrlDisableClaim, type UrlDisableClaimFields } from '../db/urlDisableClaim';
import { UrlFailureStreak, type UrlFailureStreakFields } from '../db/urlFailureStreak';

export type Streak = UrlFailureStreakFields;

export const streakIdOf = (webhookId: string, urlKey: string) => `${webhookId}:${urlKey}`;

/** Slots of recently counted delivery ids: a retry is recognised unless another failure took its slot meanwhile. */
const SLOTS = 16;
const slotOf = (deliveryId: string) =>
  `counted.s${crypto.createHash('sha256').update(deliveryId).digest().readUInt8(0) % SLOTS}`;

export interface FailedDelivery {
  organizationId: string;
  webhookId: string;
  urlKey: string;
  /** The delivery's webhook-id: one failed delivery counts once, however often its activity runs. */
  deliveryId: string;
  at: Date;
}

/**
 * Counts one failed delivery into the URL's streak (starting one at `at` if there is none) and
 * returns the streak after it. A repeat for the same delivery (a retried activity) counts nothing
 * and returns the streak as it stands. Two first failures racing to create the streak: the
 * loser's upsert fails on the unique `_id` and is made again as an update.
 */
export async function countFailure(f: FailedDelivery): Promise<Streak | null> {
  const _id = streakIdOf(f.webhookId, f.urlKey);
  const slot = slotOf(f.deliveryId);
  for (let tries = 0; tries < 2; tries++) {
    try {
      return await UrlFailureStreak.findOneAndUpdate(
        { _id, [slot]: { $ne: f.deliveryId } },
        {
          $inc: { failures: 1 },
          $set: { [slot]: f.deliveryId, lastFailureAt: f.at },
          $setOnInsert: {
            organizationId: f.organizationId,
            webhookId: f.webhookId,
            urlKey: f.urlKey,
            since: f.at,
            disabledAt: null,
          },
        },
        { upsert: true, new: true, lean: true },
      ).exec();
    } catch (err) {
      // Lost the race to create it, or (the second time) this delivery is already counted.
      if (!isDuplicateKey(err)) throw err;
    }
  }
  return UrlFailureStreak.findOne({ _id, organizationId: f.organizationId }).lean<Streak>().exec();
}

export type DisableClaim = UrlDisableClaimFields;

/**
 * Claims the disable of the streak for this delivery: the claim, or null when another delivery
 * holds it. Idempotent: the same delivery run again (a retried activity, maybe after a crash
 * right after its insert) gets its own claim back. `since` names the streak, so a streak that
 * starts afresh after a reset can be disabled again.
 */
export async function claimDisable(
  streak: Streak,
  claim: { deliveryId: string; at: Date; reason: string },
): Promise<DisableClaim | null> {
  const _id = `${streak._id}@${streak.since.toISOString()}`;
  try {
    await UrlDisableClaim.create({
      _id,
      organizationId: streak.organizationId,
      webhookId: streak.webhookId,
      urlKey: streak.urlKey,
      deliveryId: claim.deliveryId,
      since: streak.since,
      failures: streak.failures ?? 0,
      at: claim.at,
      reason: claim.reason,
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const held = await UrlDisableClaim.findById(_id).lean<DisableClaim>().exec();
  return held?.deliveryId === claim.deliveryId ? held : null;
}

/** Copies the won claim onto the streak (written by the winner only). */
export async function markDisabled(streak: Streak, claim: DisableClaim): Promise<void> {
  await UrlFailureStreak.updateOne(
    { _id: streak._id, since: streak.since },
    { $set: { disabledAt: claim.at, disabledBy: claim.deliveryId } },
  );
}

/**
 * A delivered request ends the URL's streak, unless the URL is already disabled (an attempt that
 * was in flight when it was disabled does not undo that; enabling does).
 */
export async function resetAfterSuccess(webhookId: string, urlKey: string): Promise<void> {
  await UrlFailureStreak.deleteOne({ _id: streakIdOf(webhookId, urlKey), disabledAt: null });
}

/** Enabling a webhook gives every URL of it a fresh start. */
export async function resetWebhookStreaks(organizationId: string, webhookId: string): Promise<void> {
  await UrlFailureStreak.deleteMany({ organizationId, webhookId });
}

/** A deleted webhook leaves nothing behind: its streaks and the record of its disables. */
export async function forgetWebhook(organizationId: string, webhookId: string): Promise<void> {
  await UrlFailureStreak.deleteMany({ organizationId, webhookId });
  await UrlDisableClaim.deleteMany({ organizationId, webhookId });
}
