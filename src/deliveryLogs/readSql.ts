/**
 * The logs page's finished rows straight from the embedded store's PostgreSQL (src/db/postgresDirect.ts):
 * one index range scan newest first (B-tree on organizationId, webhookId[, outcome], timestamp, _id, made by
 * src/stack/postgres.ts), with LIMIT and OFFSET done by PostgreSQL, so a page costs the rows it
 * lists whatever the offset, and a count is one index scan.
 */
import { DeliveryLog } from '../db/deliveryLog';
import { decodeDocument, jsonbValue, type DirectStore } from '../db/postgresDirect';
import type { LogRow } from './view';

/**
 * Rows counted past the end of the page. Counting reads every counted row from the table (one webhook's
 * rows lie scattered over it: ~20k heap pages, about a second, for 20,000 rows), so the count stops
 * here and then says it is a lower bound: enough for the next pages, cheap at any size.
 */
export const COUNT_AHEAD = 500;

export interface FinishedRowFilter {
  organizationId: string;
  webhookId: string;
  outcome?: string;
  eventType?: string;
  url?: string;
  test?: boolean;
  from?: Date;
  to?: Date;
}

function whereOf(f: FinishedRowFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const conds: string[] = [];
  const eq = (field: string, value: string | boolean | undefined) => {
    if (value === undefined) return;
    params.push(jsonbValue(value));
    conds.push(`_jsonb->'${field}' = $${params.length}::jsonb`);
  };
  eq('organizationId', f.organizationId);
  eq('webhookId', f.webhookId);
  eq('outcome', f.outcome);
  eq('eventType', f.eventType);
  eq('url', f.url);
  eq('test', f.test);
  if (f.from) {
    params.push(jsonbValue(f.from));
    conds.push(`_jsonb->'timestamp' >= $${params.length}::jsonb`);
  }
  if (f.to) {
    params.push(jsonbValue(f.to));
    conds.push(`_jsonb->'timestamp' <= $${params.length}::jsonb`);
  }
  return { where: conds.join(' AND '), params };
}

const collection = () => DeliveryLog.collection.collectionName;

/** The finished rows [offset, offset + limit) newest first (at equal times by id, descending). */
export async function finishedRowsSql(
  store: DirectStore,
  filter: FinishedRowFilter,
  offset: number,
  limit: number,
): Promise<LogRow[]> {
  const { where, params } = whereOf(filter);
  const rows = await store.query<{ doc: Parameters<typeof decodeDocument>[0] }>(
    collection(),
    `SELECT _jsonb AS doc FROM {table} WHERE ${where}
       ORDER BY _jsonb->'timestamp' DESC, _jsonb->'_id' DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, limit, offset],
  );
  return rows.map((r) => decodeDocument<LogRow>(r.doc));
}

/** How many finished rows match, counted up to `upTo`. */
export async function countFinishedRowsSql(
  store: DirectStore,
  filter: FinishedRowFilter,
  upTo: number,
): Promise<{ count: number; exact: boolean }> {
  const { where, params } = whereOf(filter);
  const [row] = await store.query<{ n: string }>(
    collection(),
    `SELECT count(*) AS n FROM (SELECT 1 FROM {table} WHERE ${where} LIMIT $${params.length + 1}) AS matching`,
    [...params, upTo + 1],
  );
  const n = Number(row?.n ?? 0);
  return { count: Math.min(n, upTo), exact: n <= upTo };
}
