import { Schema, model, type InferSchemaType } from 'mongoose';
import { periodOf } from './deliveryLog';

/**
 * Every accepted event, written once and never updated. `_id` is derived from (organization,
 * event id), so a second post of the same event collides on the primary key: that is the
 * idempotency record, and it outlives the workflow's retention and a restart of Temporal (it is kept
 * DATA_RETENTION_DAYS, see src/retention/sweep.ts).
 *
 * Insert-only on purpose: the embedded FerretDB (SQLite) does not use its `_id` index, so every
 * update or lookup scans the table, while inserts stay cheap. Mutable state lives in small
 * collections (PendingStart). The latest state of an incident is the incident of its newest
 * event (`incidentId`, `eventAt`), read when a manual webhook is fired.
 */
const eventSchema = new Schema(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    /** The incident the event is about, if any. */
    incidentId: { type: String, default: null },
    /** `event.timestamp`: orders the events of one incident. */
    eventAt: { type: Date, required: true },
    /** The envelope as accepted (with `data.organization` set), as JSON text. */
    body: { type: String, required: true },
    workflowId: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    /** periodOf(receivedAt), set on validation: the retention sweep deletes hour by hour with an
     * equality the embedded store can serve from an index (see deliveryLogKeys). */
    period: { type: [String], default: undefined },
  },
  { versionKey: false },
);
eventSchema.index({ organizationId: 1, eventType: 1, receivedAt: -1 });
eventSchema.index({ organizationId: 1, incidentId: 1, eventAt: -1 });
/** The retention sweep deletes by day across organizations (src/retention/sweep.ts). */
eventSchema.index({ period: 1 });
eventSchema.pre('validate', function () {
  if (this.receivedAt && !this.period?.length) this.period = periodOf(this.receivedAt);
});

export type EventFields = InferSchemaType<typeof eventSchema>;
export const StoredEvent = model('Event', eventSchema);

export const eventKey = (organizationId: string, eventId: string): string => `${organizationId}:${eventId}`;

/**
 * An event accepted whose workflow is not known to be started yet: written before the event,
 * deleted once the workflow has started. A post that crashed in between leaves it behind; a
 * repeat of the post or the sweeper starts the workflow from `body`. Stays small.
 */
const pendingStartSchema = new Schema(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    body: { type: String, required: true },
    receivedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

export const PendingStart = model('PendingStart', pendingStartSchema);
