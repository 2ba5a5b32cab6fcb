/**
 * Group commit for the inserts every event makes (its record, its attempts' log rows). While one
 * insert command to a collection is in flight, the documents that arrive wait and go together in
 * the next command: one round trip, and on the embedded store one PostgreSQL transaction, for many
 * rows. Nothing waits while the store is idle, so a lone insert costs what it did; batches grow
 * only when inserts queue anyway. Documents go to the driver as they are (no mongoose document,
 * validation or hooks: the callers build complete rows, see deliveryLogRow and eventRecordRow).
 */
import type { Collection, Document } from 'mongodb';
import { isDuplicateKey } from './errors';
import { groupedInserts } from '../metrics/registry';

/** `duplicate`: a document with this `_id` (or unique key) was there already; nothing was written. */
export type InsertOutcome = 'inserted' | 'duplicate';

interface Waiting {
  doc: Document;
  resolve: (outcome: InsertOutcome) => void;
  reject: (err: unknown) => void;
}

interface WriteErrorLike {
  index: number;
  code?: number;
  errmsg?: string;
}

/** The per-document errors of an unordered insert that failed in part (the driver gives one or many). */
function writeErrorsOf(err: unknown): WriteErrorLike[] | undefined {
  const w = (err as { writeErrors?: unknown } | null)?.writeErrors;
  if (!w) return undefined;
  return (Array.isArray(w) ? w : [w]) as WriteErrorLike[];
}

/** One document's failure in a batch, shaped like the error the driver gives for a lone insert. */
class DocumentWriteError extends Error {
  readonly code?: number;
  constructor(e: WriteErrorLike) {
    super(e.errmsg ?? 'insert failed');
    this.name = 'MongoServerError';
    this.code = e.code;
  }
}

export class GroupInserter {
  private queue: Waiting[] = [];
  private inFlight = 0;

  /**
   * @param collection the driver collection, looked up per command (mongoose's, which waits for a connection)
   * @param maxInFlight commands in flight at once; more documents wait for one to finish
   * @param maxBatch documents per command
   */
  constructor(
    private readonly collection: () => Collection,
    private readonly maxInFlight = 1,
    private readonly maxBatch = 100,
  ) {}

  insert(doc: Document): Promise<InsertOutcome> {
    return new Promise<InsertOutcome>((resolve, reject) => {
      this.queue.push({ doc, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async send(batch: Waiting[]): Promise<void> {
    const collection = this.collection();
    groupedInserts.observe({ collection: collection.collectionName }, batch.length);
    try {
      await collection.insertMany(
        batch.map((w) => w.doc),
        { ordered: false },
      );
      for (const w of batch) w.resolve('inserted');
    } catch (err) {
      const writeErrors = writeErrorsOf(err);
      if (!writeErrors) {
        // The command as a whole failed (store unreachable, timed out): every caller decides, most retry.
        for (const w of batch) w.reject(err);
        return;
      }
      const failed = new Map(writeErrors.map((e) => [e.index, e]));
      batch.forEach((w, i) => {
        const e = failed.get(i);
        if (!e) w.resolve('inserted');
        else if (isDuplicateKey(e)) w.resolve('duplicate');
        else w.reject(new DocumentWriteError(e));
      });
    }
  }
}
