/**
 * `npm run migrate-store`: moves an embedded store of FerretDB on SQLite (`.data/ferretdb`, the
 * default before PostgreSQL) into the PostgreSQL one: every database and collection, webhooks, keys,
 * logs, events and mails. Log rows and events get the bucket keys the new reads use. Run it with the
 * service stopped; a second run adds only what is missing. The SQLite folder is then renamed
 * `ferretdb-sqlite-migrated`, so nothing reads it again (delete it once satisfied).
 *
 *   npm run migrate-store [-- --data-dir DIR]
 */
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { deliveryLogKeys, periodOf } from '../src/db/deliveryLog';
import { freePorts, hasSqliteStore, startStack } from '../src/stack';

const root = path.resolve(__dirname, '..');
const BATCH = 1000;

/** Bucket keys for a row of a collection that has them (src/db/deliveryLog.ts, src/db/event.ts). */
function withKeys(collection: string, doc: Record<string, unknown>): Record<string, unknown> {
  if (collection === 'deliverylogs' && doc.timestamp instanceof Date && typeof doc.webhookId === 'string') {
    return { ...doc, ...deliveryLogKeys(doc.webhookId, doc.timestamp) };
  }
  if (collection === 'events' && doc.receivedAt instanceof Date) return { ...doc, period: periodOf(doc.receivedAt) };
  return doc;
}

async function main() {
  const i = process.argv.indexOf('--data-dir');
  const dataDir = path.resolve(
    i >= 0 ? process.argv[i + 1] : process.env.HOOKRELAY_DATA_DIR || path.join(root, '.data'),
  );
  if (!hasSqliteStore(dataDir)) {
    console.log(`nothing to migrate: no SQLite store in ${path.join(dataDir, 'ferretdb')}`);
    return;
  }
  const [fromPort, toPort] = await freePorts(2);
  const log = () => {};
  const from = await startStack({ dataDir, store: { port: fromPort, backend: 'sqlite' }, log });
  const to = await startStack({ dataDir, store: { port: toPort, backend: 'postgresql' }, log }).catch(async (err) => {
    await from.stop();
    throw err;
  });
  const source = mongoose.createConnection(`mongodb://127.0.0.1:${fromPort}/admin`);
  const target = mongoose.createConnection(`mongodb://127.0.0.1:${toPort}/admin`);
  try {
    await Promise.all([source.asPromise(), target.asPromise()]);
    const { databases } = await source.db!.admin().listDatabases();
    for (const { name: dbName } of databases) {
      if (['admin', 'local', 'config'].includes(dbName)) continue;
      const src = source.getClient().db(dbName);
      const dst = target.getClient().db(dbName);
      for (const { name } of await src.listCollections().toArray()) {
        let copied = 0;
        let batch: Record<string, unknown>[] = [];
        const flush = async () => {
          if (!batch.length) return;
          // Unordered, duplicates ignored: a second run adds only what the first did not.
          const res = await dst
            .collection(name)
            .insertMany(batch as never[], { ordered: false })
            .catch((err: { code?: number; result?: { insertedCount?: number }; insertedCount?: number }) => {
              if (err.code !== 11000 && !/E11000|duplicate/i.test(String(err))) throw err;
              return { insertedCount: err.result?.insertedCount ?? err.insertedCount ?? 0 };
            });
          copied += res.insertedCount;
          batch = [];
        };
        for await (const doc of src.collection(name).find({})) {
          batch.push(withKeys(name, doc));
          if (batch.length >= BATCH) await flush();
        }
        await flush();
        console.log(`${dbName}.${name}: ${copied} documents copied`);
      }
      // Old rows arrived behind any retention mark: the next sweep looks for them afresh.
      await dst.collection('retentionmarks').deleteMany({});
    }
  } finally {
    await Promise.all([source.close(), target.close()]);
    await Promise.all([from.stop(), to.stop()]);
  }
  const moved = path.join(dataDir, 'ferretdb-sqlite-migrated');
  fs.renameSync(path.join(dataDir, 'ferretdb'), moved);
  console.log(
    `done: the store now runs on PostgreSQL (${path.join(dataDir, 'postgres')}); the old files are in ${moved}`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
