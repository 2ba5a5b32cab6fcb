/**
 * Data retention (DATA_RETENTION_DAYS): deletes delivery log rows, stored events and failure mails
 * older than the window, across all organizations, so those collections stop growing forever.
 *
 * On the embedded store, through its PostgreSQL by time ranges (src/db/postgresDirect.ts). Elsewhere
 * by equality on each row's `period` keys (month, day, hour of its timestamp), no TTL index,
 * transaction or $lookup (FerretDB v1 has none of them); on MongoDB the multikey index on `period`
 * serves them. Failure mails, few, are deleted by plain time ranges.
 *
 * Kept whatever their age: in-flight attempt marks (small state the delivery path still acts
 * on), webhooks, keys and organizations.
 */
import type { Model } from 'mongoose';
import { DeliveryLog, periodOf } from '../db/deliveryLog';
import { StoredEvent } from '../db/event';
import { FailureMail } from '../db/mail';
import { directStore, fieldSql, jsonbValue, type DirectStore } from '../db/postgresDirect';
import { RetentionMark } from '../db/retentionMark';
import type { Logger } from '../logger';

const DAY_MS = 24 * 60 * 60 * 1000;
export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/** How many documents one sweep deleted, per collection. */
export interface RetentionCounts {
  deliveryLogs: number;
  events: number;
  mails: number;
}

/** The instant before which data is deleted, or null when `retentionDays` is 0 (keep forever). */
export function retentionCutoff(retentionDays: number, now: Date = new Date()): Date | null {
  return retentionDays > 0 ? new Date(now.getTime() - retentionDays * DAY_MS) : null;
}

// Any of the swept models: mongoose's generics do not unify across schemas.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type SweptModel = Model<any>;

const HOUR_MS = 60 * 60 * 1000;
/** How far back (months before the cutoff) a first sweep looks for data: a month with none is one query. */
const MONTHS_BACK = 120;

/**
 * Deletes documents whose `field` is before `cutoff`, one hour at a time, by their `period` keys
 * (periodOf): only equalities reach the embedded store's indexes, a range on `field` would scan and
 * decode the whole table. Each expired hour is one delete: some thousand rows at most, so writes of
 * the delivery path get in between, and no delete outgrows PostgreSQL's 65,535 parameters (FerretDB
 * deletes by an `_id` list). The hour holding the cutoff is cut by `field` as well. Which hours: those
 * since the last sweep's cutoff (RetentionMark), or, on a store's first sweep, those of the months
 * and days that hold data.
 */
async function deleteOlderByPeriod(model: SweptModel, field: string, cutoff: Date): Promise<number> {
  const cutoffHour = Math.floor(cutoff.getTime() / HOUR_MS) * HOUR_MS;
  const deleteHour = async (hour: number) => {
    const edge = hour === cutoffHour ? { [field]: { $lt: cutoff } } : {};
    return (await model.deleteMany({ period: periodOf(new Date(hour))[2], ...edge })).deletedCount;
  };
  let deleted = 0;
  const mark = await RetentionMark.findById(model.collection.name).lean();
  if (mark) {
    // The usual sweep: the hours that expired since the last one (the last one's edge hour again).
    for (let hour = mark.sweptBefore.getTime(); hour <= cutoffHour; hour += HOUR_MS) deleted += await deleteHour(hour);
  } else {
    // First sweep of this store: where the data is, month by month, then day by day. A probe drains
    // every row of its month from PostgreSQL, so this runs once; later sweeps start at the mark.
    const month = new Date(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth(), 1));
    for (let m = 0; m <= MONTHS_BACK; m++, month.setUTCMonth(month.getUTCMonth() - 1)) {
      if (!(await model.exists({ period: periodOf(month)[0] }))) continue;
      const monthEnd = Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1);
      for (let day = month.getTime(); day < monthEnd && day <= cutoffHour; day += 24 * HOUR_MS) {
        if (!(await model.exists({ period: periodOf(new Date(day))[1] }))) continue;
        for (let hour = day; hour < day + 24 * HOUR_MS && hour <= cutoffHour; hour += HOUR_MS) {
          deleted += await deleteHour(hour);
        }
      }
    }
  }
  // A later cutoff only: a sweep with an older one (a longer retention now) has nothing to add.
  if (!mark || mark.sweptBefore.getTime() < cutoffHour) {
    await RetentionMark.updateOne(
      { _id: model.collection.name },
      { sweptBefore: new Date(cutoffHour) },
      { upsert: true },
    );
  }
  return deleted;
}

/**
 * Deletes documents whose `field` is before `cutoff`, oldest first, about `batch` per delete, by
 * time ranges: for failure mails, a small collection (one mail per webhook and window) that has no
 * `period` keys. FerretDB matches `$in` lists document by document, so batches are ranges, not ids.
 */
async function deleteOlderInBatches(model: SweptModel, field: string, cutoff: Date, batch: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const [edge] = await model
      .find({ [field]: { $lt: cutoff } }, { [field]: 1 })
      .sort({ [field]: 1 })
      .skip(batch - 1)
      .limit(1)
      .lean<Record<string, unknown>[]>();
    // No batch-th document: what is left is less than a batch, and this delete is the last.
    const upTo = edge ? { $lte: edge[field] } : { $lt: cutoff };
    deleted += (await model.deleteMany({ [field]: upTo })).deletedCount;
    if (!edge) return deleted;
  }
}

/**
 * Documents per delete: short enough for the delivery path's writes to get in between (at 5,000 a
 * statement, attempts alongside a 1M-row sweep had p99 61 ms; the sweep itself took 20 s).
 */
const DELETE_BATCH = 1000;

/**
 * Deletes documents whose `field` is before `cutoff` through the embedded store's PostgreSQL (a B-tree
 * on the field, src/stack/postgres.ts): oldest first, a batch per statement, no document decoded.
 */
async function deleteOlderSql(
  direct: DirectStore,
  model: SweptModel,
  field: string,
  cutoff: Date,
  batch: number,
): Promise<number> {
  let deleted = 0;
  const key = fieldSql(model.collection.collectionName, field);
  for (;;) {
    const [row] = await direct.query<{ n: number }>(
      model.collection.collectionName,
      `WITH gone AS (DELETE FROM {table} WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM {table} WHERE ${key} < $1::jsonb ORDER BY ${key} LIMIT $2
       )) RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [jsonbValue(cutoff), batch],
    );
    deleted += row?.n ?? 0;
    if ((row?.n ?? 0) < batch) return deleted;
  }
}

/** Deletes everything older than `cutoff` (exclusive) and returns how much went, per collection. */
export async function deleteDataOlderThan(cutoff: Date, batch = DELETE_BATCH): Promise<RetentionCounts> {
  // One after the other: three at once would only compete with each other and the delivery path.
  const direct = directStore();
  const deleteOlder = (model: SweptModel, field: string) =>
    direct ? deleteOlderSql(direct, model, field, cutoff, batch) : deleteOlderByPeriod(model, field, cutoff);
  const deliveryLogs = await deleteOlder(DeliveryLog, 'timestamp');
  const events = await deleteOlder(StoredEvent, 'receivedAt');
  const mails = await deleteOlderInBatches(FailureMail, 'created_at', cutoff, batch);
  return { deliveryLogs, events, mails };
}

/** One sweep for a retention of `retentionDays` (0: deletes nothing and does not touch the store). */
export async function sweepExpiredData(retentionDays: number, now: Date = new Date()): Promise<RetentionCounts> {
  const cutoff = retentionCutoff(retentionDays, now);
  return cutoff ? deleteDataOlderThan(cutoff) : { deliveryLogs: 0, events: 0, mails: 0 };
}

/**
 * Sweeps now and every `intervalMs` until the returned stop() is called. Counts are logged only
 * when something was deleted; a failed sweep is logged and the next tick tries again. stop()
 * resolves once a sweep in progress has ended.
 */
export function runRetentionSweeper(
  deps: { retentionDays: number; logger: Logger },
  intervalMs = RETENTION_INTERVAL_MS,
): () => Promise<void> {
  if (deps.retentionDays <= 0) return async () => {};
  let current: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    // A sweep slower than the interval (a large first sweep on FerretDB) is not run twice at once.
    current ??= sweepOnce().finally(() => {
      current = null;
    });
  };
  const sweepOnce = async () => {
    try {
      const counts = await sweepExpiredData(deps.retentionDays);
      if (counts.deliveryLogs + counts.events + counts.mails > 0) {
        deps.logger.info('retention sweep deleted old data', { retentionDays: deps.retentionDays, ...counts });
      }
    } catch (err) {
      // After stop() the store is being disconnected: a sweep cut short then is no failure.
      if (!stopped) deps.logger.error('retention sweep failed', { err });
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  // Retention is housekeeping: it must not keep the process alive on shutdown.
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await current;
  };
}
