import { Schema, model } from 'mongoose';

/**
 * One reserved start time of a rate-limited (webhook, URL): slot `index` of `key` starts at
 * `index × 1000/per_second` ms after the epoch. The unique `_id` (`key#index`) is what makes a
 * reservation exclusive: two workers inserting the same slot, one gets a duplicate-key error
 * (src/rateLimit/slots.ts). Slots older than a minute are deleted as new ones are claimed.
 */
const rateLimitSlotSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** `organizationId/webhookId/urlKey/perSecond`. */
    key: { type: String, required: true },
    index: { type: Number, required: true },
  },
  { versionKey: false, collection: 'rate_limit_slots' },
);
rateLimitSlotSchema.index({ key: 1, index: 1 });

export const RateLimitSlot = model('RateLimitSlot', rateLimitSlotSchema);
