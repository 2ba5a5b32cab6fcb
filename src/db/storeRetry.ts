/**
 * Short in-process retries of store operations that failed for a passing reason: FerretDB's SQLite
 * backend answers "database is locked" (SQLITE_BUSY) under concurrent writes, MongoDB labels its
 * own transient errors. Used where a failure would cost more than a wait: inside a delivery
 * attempt (a store error would use up one of the webhook's attempts) and when accepting an event.
 */
import { storeErrors } from '../metrics/registry';

const TRANSIENT_MESSAGE = /SQLITE_BUSY|database is locked/i;

export function isTransientStoreError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { message?: unknown; hasErrorLabel?: (label: string) => boolean };
  if (typeof e.hasErrorLabel === 'function') {
    if (e.hasErrorLabel('TransientTransactionError') || e.hasErrorLabel('RetryableWriteError')) return true;
  }
  return typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message);
}

/** Runs `op`, again after 50, 100, 200… ms (at most 1 s apart) while it fails transiently. */
export async function withStoreRetry<T>(op: () => Promise<T>, tries = 8): Promise<T> {
  let delay = 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= tries || !isTransientStoreError(err)) {
        storeErrors.inc({ stage: 'gave_up' });
        throw err;
      }
      storeErrors.inc({ stage: 'retried' });
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 1000);
    }
  }
}
