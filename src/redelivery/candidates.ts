/**
 * What a recover sends again: the deliveries of one webhook whose final outcome in a time window
 * was `failed`, read page by page in (timestamp, id) order. A `failed` row is final when no later
 * row of the same delivery and URL exists (a redelivery that succeeded since, or is retrying,
 * makes it history).
 *
 * Two readers: the embedded store's PostgreSQL (STORE_POSTGRES_URL), one keyset range scan of the
 * B-tree on (webhookId, outcome, timestamp, _id) per page; otherwise mongoose queries valid on
 * MongoDB, walking the window a day (`logDay`, indexed) at a time.
 */
import { Types } from 'mongoose';
import { DeliveryLog, deliveryLogKeys } from '../db/deliveryLog';
import { directStore, fieldSql, jsonbValue, type DirectStore } from '../db/postgresDirect';
import { urlKeyOf } from '../delivery/target';
import type { RecoverCandidate, RecoverCursor, RecoverPage } from '../shared/redelivery';

export interface CandidateQuery {
  organizationId: string;
  webhookId: string;
  since: Date;
  until: Date;
  after: RecoverCursor | null;
  limit: number;
}

/** A failed row as both readers see it, and whether a later row of its delivery and URL exists. */
interface FailedRow {
  id: string;
  timestamp: number;
  deliveryId: string;
  eventId: string;
  eventType: string;
  url: string;
  superseded: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** One page: at most `limit` failed rows read; those still final are the candidates. */
export async function failedFinalDeliveries(q: CandidateQuery): Promise<RecoverPage> {
  const direct = directStore();
  const rows = direct ? await failedRowsSql(direct, q) : await failedRowsMongoose(q);
  if (!rows.length) return { candidates: [], next: null };
  const seen = new Set<string>();
  const candidates: RecoverCandidate[] = [];
  for (const r of rows) {
    const urlKey = urlKeyOf(r.url);
    // A failed row is final only when it is its delivery's last: at most one per (delivery, URL).
    if (r.superseded || seen.has(`${r.deliveryId}\n${urlKey}`)) continue;
    seen.add(`${r.deliveryId}\n${urlKey}`);
    candidates.push({ deliveryId: r.deliveryId, eventId: r.eventId, eventType: r.eventType, urlKey });
  }
  const last = rows[rows.length - 1];
  return { candidates, next: { timestamp: last.timestamp, id: last.id } };
}

const collection = () => DeliveryLog.collection.collectionName;
const col = (field: string) => fieldSql(collection(), field);

/**
 * The next `limit` failed rows after the cursor, oldest first, each with whether a later row of its
 * delivery and URL exists. The order names every column of the (organizationId, webhookId, outcome,
 * timestamp, _id) B-tree on key columns (src/stack/postgres.ts), so PostgreSQL walks it in order and
 * stops at the limit; the later-row check compares times
 * as numbers, so it is served by the GIN index on deliveryId alone (compared as jsonb, PostgreSQL
 * intersected it with the whole-table time index: 10 ms a row, measured on 10,000 rows).
 */
async function failedRowsSql(store: DirectStore, q: CandidateQuery): Promise<FailedRow[]> {
  const params: unknown[] = [
    jsonbValue(q.webhookId),
    jsonbValue(q.organizationId),
    jsonbValue('failed'),
    jsonbValue(q.since),
    jsonbValue(q.until),
  ];
  let keyset = '';
  if (q.after) {
    params.push(jsonbValue(q.after.timestamp), jsonbValue(q.after.id));
    keyset = `AND (t.${col('timestamp')}, t.${col('_id')}) > ($6::jsonb, $7::jsonb)`;
  }
  params.push(q.limit);
  const rows = await store.query<{
    id: string;
    ts: string;
    deliveryId: string;
    eventId: string;
    eventType: string;
    url: string;
    superseded: boolean;
  }>(
    collection(),
    `SELECT t._jsonb->>'_id' AS id, t._jsonb->>'timestamp' AS ts, t._jsonb->>'deliveryId' AS "deliveryId",
            t._jsonb->>'eventId' AS "eventId", t._jsonb->>'eventType' AS "eventType", t._jsonb->>'url' AS url,
            EXISTS (SELECT 1 FROM {table} l
                     WHERE (l._jsonb->'deliveryId') @> (t._jsonb->'deliveryId')
                       AND l._jsonb->'url' = t._jsonb->'url'
                       AND (l._jsonb->>'timestamp')::float8 > (t._jsonb->>'timestamp')::float8) AS superseded
       FROM {table} t
      WHERE t.${col('organizationId')} = $2::jsonb AND t.${col('webhookId')} = $1::jsonb
        AND t.${col('outcome')} = $3::jsonb
        AND t.${col('timestamp')} >= $4::jsonb AND t.${col('timestamp')} < $5::jsonb
        ${keyset}
      ORDER BY ${['organizationId', 'webhookId', 'outcome', 'timestamp', '_id'].map((f) => `t.${col(f)}`).join(', ')}
      LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({ ...r, timestamp: Number(r.ts) }));
}

/** The same through mongoose: the window's days in order, the first with rows after the cursor. */
async function failedRowsMongoose(q: CandidateQuery): Promise<FailedRow[]> {
  const start = q.after ? Math.max(q.after.timestamp, q.since.getTime()) : q.since.getTime();
  for (let day = Math.floor(start / DAY_MS) * DAY_MS; day < q.until.getTime(); day += DAY_MS) {
    const { logDay } = deliveryLogKeys(q.webhookId, new Date(day));
    const filter: Record<string, unknown> = {
      logDay,
      organizationId: q.organizationId,
      webhookId: q.webhookId,
      outcome: 'failed',
      timestamp: { $gte: q.since, $lt: q.until },
    };
    if (q.after) {
      const at = new Date(q.after.timestamp);
      filter.$or = [{ timestamp: { $gt: at } }, { timestamp: at, _id: { $gt: new Types.ObjectId(q.after.id) } }];
    }
    const rows = await DeliveryLog.find(filter, {
      _id: 1,
      timestamp: 1,
      deliveryId: 1,
      eventId: 1,
      eventType: 1,
      url: 1,
    })
      .sort({ timestamp: 1, _id: 1 })
      .limit(q.limit)
      .lean();
    if (!rows.length) continue;
    // Later rows of these deliveries: one indexed equality per delivery.
    const latest = new Map<string, number>();
    await Promise.all(
      [...new Set(rows.map((r) => r.deliveryId))].map(async (deliveryId) => {
        for (const l of await DeliveryLog.find({ deliveryId }, { url: 1, timestamp: 1 }).lean()) {
          const k = `${deliveryId}\n${l.url}`;
          latest.set(k, Math.max(latest.get(k) ?? 0, l.timestamp.getTime()));
        }
      }),
    );
    return rows.map((r) => ({
      id: String(r._id),
      timestamp: r.timestamp.getTime(),
      deliveryId: r.deliveryId,
      eventId: r.eventId,
      eventType: r.eventType,
      url: r.url,
      superseded: (latest.get(`${r.deliveryId}\n${r.url}`) ?? 0) > r.timestamp.getTime(),
    }));
  }
  return [];
}
