import mongoose from 'mongoose';
import { connectDirectStore, disconnectDirectStore } from './postgresDirect';

/**
 * One mongoose connection per process. `autoIndex` builds the unique indexes the code relies on
 * (idempotency, key hashes) at start, on FerretDB and MongoDB alike. The pool is bounded, and so
 * is the wait for a connection from it: when the store stalls, work queues for a while and then
 * fails (a 503 in the API, a retry in activities) instead of piling up without end.
 */
export async function connectDatabase(uri: string, storePostgresUrl?: string): Promise<typeof mongoose> {
  mongoose.set('strictQuery', true);
  await mongoose.connect(uri, {
    // Under REQUEST_DEADLINE_MS, so an unreachable store is answered as such, not as a timeout.
    serverSelectionTimeoutMS: 2000,
    maxPoolSize: 32,
    waitQueueTimeoutMS: 10_000,
    autoIndex: true,
  });
  await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
  // The embedded store's PostgreSQL, for the reads FerretDB cannot serve from an index.
  connectDirectStore(storePostgresUrl);
  return mongoose;
}

export async function disconnectDatabase(): Promise<void> {
  await disconnectDirectStore();
  await mongoose.disconnect();
}

/** True when the store answers a ping. */
export async function pingDatabase(): Promise<void> {
  const db = mongoose.connection.db;
  if (!db || mongoose.connection.readyState !== 1) throw new Error('not connected');
  await db.admin().ping();
}
