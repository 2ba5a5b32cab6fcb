import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * One row per HTTP attempt. A row is written `pending` when the attempt starts and finalized when
 * it ends, so an attempt cut short by a worker crash still shows (the next attempt, or the
 * failure handler, turns it into an "attempt interrupted" failure). Header values that may be
 * secret (custom headers, signatures) are masked; bodies are kept as text.
 */
const deliveryLogSchema = new Schema(
  {
    organizationId: { type: String, required: true },
    webhookId: { type: String, required: true },
    /** The `webhook-id` header: stable across retries and URLs of one delivery. */
    deliveryId: { type: String, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    url: { type: String, required: true },
    method: { type: String, required: true },
    attempt: { type: Number, required: true },
    maxAttempts: { type: Number, required: true },
    outcome: {
      type: String,
      enum: ['pending', 'delivered', 'retrying', 'failed', 'cancelled'],
      required: true,
    },
    status: { type: Number, default: null },
    error: { type: String, default: null },
    durationMs: { type: Number, default: null },
    requestHeaders: { type: [{ _id: false, name: String, value: String }], default: [] },
    requestBody: { type: String, default: '' },
    /** The first bytes of the answer (at most RESPONSE_BODY_LIMIT_BYTES, ≤ 4 KB stored). */
    responseBody: { type: String, default: null },
    trigger: { type: String, enum: ['event', 'manual', 'test'], default: 'event' },
    test: { type: Boolean, default: false },
    workflowId: { type: String, default: null },
    timestamp: { type: Date, required: true },
  },
  { versionKey: false },
);
deliveryLogSchema.index({ organizationId: 1, webhookId: 1, timestamp: -1 });
deliveryLogSchema.index({ deliveryId: 1, url: 1, outcome: 1 });

export type DeliveryLogFields = InferSchemaType<typeof deliveryLogSchema>;
export const DeliveryLog = model('DeliveryLog', deliveryLogSchema);
