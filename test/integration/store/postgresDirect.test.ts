/**
 * The logs page and retention read the embedded store's PostgreSQL directly: the same rows, in the
 * same order, as mongoose gives, decoded to the same values, and from the B-tree indexes the stack
 * makes (a column or expression that does not match its index would silently scan the table).
 */
import mongoose from 'mongoose';
import pg from 'pg';
import { connectDatabase, disconnectDatabase } from '../../../src/db/connect';
import { DeliveryLog } from '../../../src/db/deliveryLog';
import { directStore } from '../../../src/db/postgresDirect';
import {
  countFinishedRowsQuery,
  countFinishedRowsSql,
  finishedRowsQuery,
  finishedRowsSql,
} from '../../../src/deliveryLogs/readSql';
import { testConfig } from '../../support/harness';

const pgUrl = process.env.STORE_POSTGRES_URL;
// Only where the stack runs FerretDB on PostgreSQL (npm test's default); against MongoDB there is nothing to read.
const describeOnPostgres = pgUrl ? describe : describe.skip;

describeOnPostgres("reads through the embedded store's PostgreSQL", () => {
  const config = testConfig();
  const webhookId = new mongoose.Types.ObjectId().toString();
  const t0 = Date.parse('2026-11-20T10:00:00Z');

  beforeAll(async () => {
    await connectDatabase(config.MONGODB_URI, pgUrl);
    // 60 rows over an hour, some at the same instant (ordered by id then), a few failed, one of
    // another webhook and one of another organization that must never show.
    const rows = Array.from({ length: 60 }, (_, i) => ({
      organizationId: 'org-a',
      webhookId,
      deliveryId: `msg_${i}`,
      eventId: `e${i}`,
      eventType: i % 2 ? 'incident.triggered' : 'incident.resolved',
      url: 'https://example.com/hook',
      method: 'POST',
      attempt: 1,
      maxAttempts: 3,
      requestHeaders: [{ name: 'content-type', value: 'application/json' }],
      requestBody: `{"n":${i}}`,
      timestamp: new Date(t0 + Math.floor(i / 3) * 60_000),
      outcome: i % 7 === 0 ? 'failed' : 'delivered',
      status: i % 7 === 0 ? 500 : 200,
      durationMs: i,
    }));
    await DeliveryLog.create([
      ...rows,
      { ...rows[0], deliveryId: 'other-webhook', webhookId: new mongoose.Types.ObjectId().toString() },
      { ...rows[0], deliveryId: 'other-org', organizationId: 'org-b' },
    ]);
  });
  afterAll(async () => {
    await mongoose.connection.db?.dropDatabase();
    await disconnectDatabase();
  });

  const mongooseOrder = (filter: object, skip: number, limit: number) =>
    DeliveryLog.find({ organizationId: 'org-a', webhookId, ...filter })
      .sort({ timestamp: -1, _id: -1 })
      .skip(skip)
      .limit(limit)
      .lean();

  test('when a page is read at any offset, with or without a filter, then it is the rows mongoose gives, decoded alike', async () => {
    const direct = directStore()!;
    expect(direct).not.toBeNull();
    for (const [filter, offset] of [
      [{}, 0],
      [{}, 25],
      [{ outcome: 'failed' }, 0],
      [{ outcome: 'delivered', eventType: 'incident.triggered' }, 5],
    ] as const) {
      const sql = await finishedRowsSql(direct, { organizationId: 'org-a', webhookId, ...filter }, offset, 20);
      const expected = await mongooseOrder(filter, offset, 20);
      expect(sql.length).toBeGreaterThan(0);
      expect(sql).toEqual(expected);
      expect(sql[0].timestamp).toBeInstanceOf(Date);
      expect(String(sql[0]._id)).toBe(String(expected[0]._id));
    }
    const count = (filter: object, upTo = 100) =>
      countFinishedRowsSql(direct, { organizationId: 'org-a', webhookId, ...filter }, upTo);
    expect(await count({})).toEqual({ count: 60, exact: true });
    expect(await count({}, 60)).toEqual({ count: 60, exact: true });
    // Past the bound the count stops, and says so.
    expect(await count({}, 59)).toEqual({ count: 59, exact: false });
    expect(await count({ outcome: 'failed' })).toEqual({ count: 9, exact: true });
    expect(await count({ organizationId: 'org-b' })).toEqual({ count: 1, exact: true });
  });

  test('when PostgreSQL runs the page, the count and the retention delete, then each reads a B-tree index in order and stops at the page’s end', async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const schema = mongoose.connection.db!.databaseName;
      const { rows } = await client.query(
        `SELECT _jsonb->>'table' AS t FROM "${schema}"._ferretdb_database_metadata WHERE _jsonb->>'_id' = 'deliverylogs'`,
      );
      const table = `"${schema}"."${rows[0].t}"`;
      // Statistics and visibility as autovacuum keeps them on a real table.
      await client.query(`VACUUM ANALYZE ${table}`);
      // A handful of rows: without this the planner would rightly prefer reading the table.
      await client.query('SET enable_seqscan = off; SET enable_bitmapscan = off');
      const run = async ({ sql, params }: { sql: string; params: unknown[] }) =>
        (await client.query(`EXPLAIN (ANALYZE) ${sql.replaceAll('{table}', table)}`, params)).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      const filter = { organizationId: 'org-a', webhookId };
      // The keys come from the index alone, in order: it stops at the page's end (nothing sorted first).
      // One row past it is allowed: when the planner orders by timestamp from the index and sorts equal
      // timestamps by _id (Incremental Sort), it reads the next row to close the last group (CI saw 31).
      for (const [query, readsAtMost] of [
        [finishedRowsQuery(filter, 10, 20), 31],
        [finishedRowsQuery({ ...filter, outcome: 'failed' }, 0, 20), 21],
        [countFinishedRowsQuery(filter, 100), 101],
      ] as const) {
        const plan = await run(query);
        // Index-only when VACUUM could mark the pages all-visible; while another test's transaction
        // is open in the same PostgreSQL database (FerretDB keeps every test's database there) it
        // cannot, and the planner reads the same index with heap visits instead (seen under load).
        const scanned = /Index (?:Only )?Scan (?:Backward )?using \S+_btree[^\n]*actual time=\S+ rows=(\d+)/.exec(plan);
        // The plan goes with a failure: the planner's choice is what needs reading then.
        expect({ rows: scanned ? Number(scanned[1]) <= readsAtMost : false, plan }).toEqual({ rows: true, plan });
      }
      // The page's rows themselves come by _id, each through its index.
      expect(await run(finishedRowsQuery(filter, 10, 20))).toMatch(/Index Scan (Backward )?using \S+__id_/);
      expect(
        await run({ sql: `SELECT ctid FROM {table} WHERE k_timestamp < '1'::jsonb ORDER BY k_timestamp`, params: [] }),
      ).toMatch(/Index (Only )?Scan using \S+_btree/);
    } finally {
      await client.end();
    }
  });
});
