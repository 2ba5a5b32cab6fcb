import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * Every accepted event, stored before its workflow starts. `_id` is derived from (organization,
 * event id), so a second post of the same event collides on the primary key: that is the
 * idempotency check, and it survives a Temporal restart or the end of the workflow's retention.
 * `startedAt` stays null until the workflow is known to be started; the sweeper starts the rest.
 */
const eventSchema = new Schema(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    /** The envelope as accepted (with `data.organization` set), as JSON text. */
    body: { type: String, required: true },
    workflowId: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    startedAt: { type: Date, default: null },
    runId: { type: String, default: null },
  },
  { versionKey: false },
);
eventSchema.index({ organizationId: 1, eventType: 1, receivedAt: -1 });
eventSchema.index({ startedAt: 1, receivedAt: 1 });

export type EventFields = InferSchemaType<typeof eventSchema>;
export const StoredEvent = model('Event', eventSchema);

export const eventKey = (organizationId: string, eventId: string): string => `${organizationId}:${eventId}`;
