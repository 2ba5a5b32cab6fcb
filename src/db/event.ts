import type { Collection } from 'mongodb';
import { Schema, model } from 'mongoose';
import { periodOf } from './deliveryLog';
import { GroupInserter, type InsertOutcome } from './groupInsert';

/**
 * Every accepted event, written once by its workflow's first step and never updated. `_id` is
 * derived from (organization, event id), so a later run for the same event collides on the
 * primary key: with `runId` that tells a repeat posted after Temporal forgot the first run (kept
 * DATA_RETENTION_DAYS, see src/retention/sweep.ts) from the same run's task retried. The latest
 * state of an incident is the incident of its newest event (`incidentId`, `eventAt`), read when a
 * manual webhook is fired.
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
    /** The run that recorded it; absent on records written before runs recorded their events. */
    runId: { type: String, default: null },
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

export const StoredEvent = model('Event', eventSchema);

export const eventKey = (organizationId: string, eventId: string): string => `${organizationId}:${eventId}`;

export interface EventRecordInput {
  organizationId: string;
  eventId: string;
  eventType: string;
  incidentId: string | null;
  eventAt: Date;
  body: string;
  workflowId: string;
  runId: string;
  receivedAt: Date;
}

/** The complete document mongoose would store for this record, built without a mongoose document. */
export function eventRecordRow(record: EventRecordInput) {
  return {
    _id: eventKey(record.organizationId, record.eventId),
    ...record,
    period: periodOf(record.receivedAt),
  };
}

const eventRecords = new GroupInserter(() => StoredEvent.collection as unknown as Collection);

/** Writes an event's record; `duplicate` when the event (organization, id) has one already. */
export const insertEventRecord = (record: EventRecordInput): Promise<InsertOutcome> =>
  eventRecords.insert(eventRecordRow(record));
