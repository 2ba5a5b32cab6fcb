/**
 * Data retention (DATA_RETENTION_DAYS): deletes delivery log rows, stored events and failure mails
 * older than the window, across all organizations, so those collections stop growing forever.
 *
 * Plain range deletes on each model's own timestamp, no TTL index, transaction or $lookup: FerretDB
 * v1 has none of them. On FerretDB (SQLite) each delete scans its table, which is fine hourly; on
 * MongoDB the single-field indexes on those timestamps (src/db/*.ts) serve the range.
 *
 * Kept whatever their age: in-flight attempt marks and pending starts (small state the delivery
 * path and the event sweeper still act on), webhooks, keys, organizations, and any stored event
 * that still has a pending start (see deleteExpiredEvents).
 */
import { DeliveryLog } from '../db/deliveryLog';
import { PendingStart, StoredEvent } from '../db/event';
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

/**
 * Stored events received before the cutoff, except those with a pending start: the event sweeper
 * (startUnstartedEvents) reads the stored event of a mark to tell "workflow never started" from "a
 * repeat of an old event", so deleting it would make the sweeper start that old event again.
 * PendingStart stays small (only posts in progress or crashed), so its ids fit in one $nin.
 */
async function deleteExpiredEvents(cutoff: Date): Promise<number> {
  const pending = await PendingStart.find({}, { _id: 1 }).lean();
  const res = await StoredEvent.deleteMany({
    receivedAt: { $lt: cutoff },
    _id: { $nin: pending.map((p) => p._id) },
  });
  return res.deletedCount;
}

/** Deletes everything older than `cutoff` (exclusive) and returns how much went, per collection. */
export async function deleteDataOlderThan(cutoff: Date): Promise<RetentionCounts> {
  // One after the other: on FerretDB each is a full-table scan, and three at once only compete.
  const deliveryLogs = (await DeliveryLog.deleteMany({ timestamp: { $lt: cutoff } })).deletedCount;
  const events = await deleteExpiredEvents(cutoff);
  const mails = (await FailureMail.deleteMany({ created_at: { $lt: cutoff } })).deletedCount;
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
