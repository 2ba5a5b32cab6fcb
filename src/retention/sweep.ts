/**
 * Data retention (DATA_RETENTION_DAYS): deletes delivery log rows, stored events and failure mails
 * older than the window, across all organizations, so those collections stop growing forever.
 *
 * Plain range deletes on each model's own timestamp, no TTL index, transaction or $lookup: FerretDB
 * v1 has none of them. On FerretDB (SQLite) each delete scans its table, which is fine hourly; on
 * MongoDB the single-field indexes on those timestamps (src/db/*.ts) serve the range.
 *
 * Kept whatever their age: in-flight attempt marks (small state the delivery path still acts
 * on), webhooks, keys and organizations.
 */
import type { Model } from 'mongoose';
import { DeliveryLog } from '../db/deliveryLog';
import { StoredEvent } from '../db/event';
import { FailureMail } from '../db/mail';
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

/**
 * Deletes documents whose `field` is before `cutoff`, oldest first, about `batch` (DELETE_BATCH)
 * per delete: FerretDB v1 on SQLite refuses a delete of more than some 32,000 documents at once
 * ("too many SQL variables", measured with 50,000 expired log rows), and short deletes let the
 * delivery path's writes in between. Each batch is a time range up to the batch's newest document,
 * not a list of ids: FerretDB matches `$in` lists document by document, which measured 27 s per
 * batch of 5,000 over 50,000 rows.
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

const DELETE_BATCH = 5000;

/** Deletes everything older than `cutoff` (exclusive) and returns how much went, per collection. */
export async function deleteDataOlderThan(cutoff: Date, batch = DELETE_BATCH): Promise<RetentionCounts> {
  // One after the other: on FerretDB each is a full-table scan, and three at once only compete.
  const deliveryLogs = await deleteOlderInBatches(DeliveryLog, 'timestamp', cutoff, batch);
  const events = await deleteOlderInBatches(StoredEvent, 'receivedAt', cutoff, batch);
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
