import crypto from 'node:crypto';
import type { Collection } from 'mongodb';
import { Schema, Types, model, type InferSchemaType } from 'mongoose';
import { GroupInserter, type InsertOutcome } from './groupInsert';

/**
 * One row per HTTP attempt, written once when the attempt ends (insert-only: the embedded
 * FerretDB scans the table for any update). Header values that may be secret (custom headers,
 * signatures) are masked; bodies are kept as text. The row id is derived from (delivery, URL,
 * attempt), so writing a row twice keeps one.
 */
/** What a log row and an in-flight mark both record about one attempt. */
const attemptFields = {
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
  requestHeaders: { type: [{ _id: false, name: String, value: String }], default: [] },
  requestBody: { type: String, default: '' },
  workflowId: { type: String, default: null },
  /** A redelivery's round (src/shared/redelivery.ts); absent on first deliveries. Part of the row id. */
  round: { type: String, default: undefined },
  /** When the attempt started. */
  timestamp: { type: Date, required: true },
} as const;

const deliveryLogSchema = new Schema(
  {
    ...attemptFields,
    outcome: { type: String, enum: ['delivered', 'retrying', 'failed', 'cancelled'], required: true },
    status: { type: Number, default: null },
    error: { type: String, default: null },
    durationMs: { type: Number, default: null },
    /** The first bytes of the answer (at most RESPONSE_BODY_LIMIT_BYTES, ≤ 4 KB stored). */
    responseBody: { type: String, default: null },
    trigger: { type: String, enum: ['event', 'manual', 'test', 'redeliver', 'recover'], default: 'event' },
    test: { type: Boolean, default: false },
    // Bucket keys (deliveryLogKeys), set on validation: see there why.
    logHour: { type: String },
    logDay: { type: String },
    period: { type: [String], default: undefined },
  },
  { versionKey: false },
);
// The logs page reads a webhook's hours and days newest first (src/deliveryLogs/page.ts).
deliveryLogSchema.index({ logHour: 1, timestamp: -1 });
deliveryLogSchema.index({ logDay: 1 });
deliveryLogSchema.index({ period: 1 }); // the retention sweep deletes hour by hour, across organizations
deliveryLogSchema.index({ deliveryId: 1 });
deliveryLogSchema.pre('validate', function () {
  if (this.timestamp && !this.logHour) Object.assign(this, deliveryLogKeys(this.webhookId, this.timestamp));
});

/**
 * The month, day and hour (UTC) of an instant, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDTHH`: the retention
 * sweep finds the months that hold data, then deletes hour by hour (src/retention/sweep.ts). An
 * array, so one equality matches any of them (MongoDB matches an element; FerretDB's `@>` on
 * PostgreSQL too, from the same GIN index).
 */
export function periodOf(at: Date): string[] {
  const iso = at.toISOString();
  return [iso.slice(0, 7), iso.slice(0, 10), iso.slice(0, 13)];
}

/**
 * Equality keys for the reads of a growing collection. The embedded store (FerretDB v1 on
 * PostgreSQL) pushes only equality filters down to PostgreSQL, never a range or a sort: it fetches
 * every matching row and sorts them itself. So a page of logs reads one hour (`logHour`) or one day
 * (`logDay`) of one webhook at a time, newest first, and retention deletes one `period` at a time; each
 * is served by a GIN index (src/stack/postgres.ts) and stays small however large the table grows.
 * Set by a validation hook; an insert that skips validation (`lean`, the raw driver) must add them.
 */
export function deliveryLogKeys(
  webhookId: string,
  timestamp: Date,
): { logHour: string; logDay: string; period: string[] } {
  const iso = timestamp.toISOString();
  return {
    logHour: `${webhookId}@${iso.slice(0, 13)}`,
    logDay: `${webhookId}@${iso.slice(0, 10)}`,
    period: periodOf(timestamp),
  };
}

export type DeliveryLogFields = InferSchemaType<typeof deliveryLogSchema>;
export const DeliveryLog = model('DeliveryLog', deliveryLogSchema);

/** What an attempt's log row is written from; the rest are the schema's defaults. */
export interface LogRowInput {
  organizationId: string;
  webhookId: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  url: string;
  method: string;
  attempt: number;
  maxAttempts: number;
  trigger: DeliveryLogFields['trigger'];
  round?: string | null;
  workflowId?: string | null;
  outcome: DeliveryLogFields['outcome'];
  status?: number | null;
  error?: string | null;
  durationMs?: number | null;
  requestHeaders?: readonly { name?: string | null; value?: string | null }[];
  requestBody?: string;
  responseBody?: string | null;
  test: boolean;
  timestamp: Date;
}

/**
 * The complete document mongoose would store for this row (defaults, bucket keys, derived id),
 * built without a mongoose document: rows are written through the driver (insertLogRow).
 * test/integration/store/groupInsert.test.ts holds it equal to mongoose's.
 */
export function deliveryLogRow(row: LogRowInput) {
  return {
    _id: attemptLogId(row.deliveryId, row.url, row.attempt, row.round),
    organizationId: row.organizationId,
    webhookId: row.webhookId,
    deliveryId: row.deliveryId,
    eventId: row.eventId,
    eventType: row.eventType,
    url: row.url,
    method: row.method,
    attempt: row.attempt,
    maxAttempts: row.maxAttempts,
    requestHeaders: (row.requestHeaders ?? []).map(({ name, value }) => ({ name, value })),
    requestBody: row.requestBody ?? '',
    workflowId: row.workflowId ?? null,
    ...(row.round ? { round: row.round } : {}),
    timestamp: row.timestamp,
    outcome: row.outcome,
    status: row.status ?? null,
    error: row.error ?? null,
    durationMs: row.durationMs ?? null,
    responseBody: row.responseBody ?? null,
    trigger: row.trigger,
    test: row.test,
    ...deliveryLogKeys(row.webhookId, row.timestamp),
  };
}

const logRows = new GroupInserter(() => DeliveryLog.collection as unknown as Collection);

/** Writes an attempt's log row once: a second write of the same attempt finds its id taken (`duplicate`). */
export const insertLogRow = (row: LogRowInput): Promise<InsertOutcome> => logRows.insert(deliveryLogRow(row));

/**
 * The log row id of one attempt: derived, so a retried write or a late cleanup cannot add a second.
 * A redelivery's attempts add their round, so they never take an original attempt's id.
 */
export function attemptLogId(deliveryId: string, url: string, attempt: number, round?: string | null): Types.ObjectId {
  const key = `${deliveryId}\n${url}\n${attempt}${round ? `\n${round}` : ''}`;
  const hex = crypto.createHash('sha256').update(key).digest('hex');
  return new Types.ObjectId(hex.slice(0, 24));
}

/**
 * An attempt in progress: written before the request, deleted after its log row. One left behind
 * belongs to an attempt whose worker died; the next attempt (or the failure handler) turns it into
 * an "attempt interrupted" log row. Stays small: only attempts in flight.
 */
const attemptInFlightSchema = new Schema(
  {
    _id: { type: String, required: true },
    ...attemptFields,
    trigger: { type: String, required: true },
  },
  { versionKey: false },
);

export const AttemptInFlight = model('AttemptInFlight', attemptInFlightSchema);
