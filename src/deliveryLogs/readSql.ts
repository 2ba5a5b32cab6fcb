/**
 * The logs page's finished rows straight from the embedded store's PostgreSQL (src/db/postgresDirect.ts):
 * one index range scan newest first (B-tree on the key columns organizationId, webhookId[, outcome],
 * timestamp, _id, made by src/stack/postgres.ts), with LIMIT and OFFSET done by PostgreSQL in the
 * index alone, so a page reads from the table only the rows it lists, and a count reads only the index.
 */
import { DeliveryLog } from '../db/deliveryLog';
import { decodeDocument, fieldSql, jsonbValue, type DirectStore } from '../db/postgresDirect';
import type { LogRow } from './view';

/**
 * Rows counted past the end of the page; past it the count says it is a lower bound. Enough for the
 * next pages, and cheap at any size (counting all of a busy webhook's month would read its whole index
 * range, and the table pages not yet marked all-visible).
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

const collection = () => DeliveryLog.collection.collectionName;
const col = (field: string) => fieldSql(collection(), field);

function whereOf(f: FinishedRowFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const conds: string[] = [];
  const cmp = (field: string, op: string, value: string | boolean | Date | undefined) => {
    if (value === undefined) return;
    params.push(jsonbValue(value));
    conds.push(`${col(field)} ${op} $${params.length}::jsonb`);
  };
  cmp('organizationId', '=', f.organizationId);
  cmp('webhookId', '=', f.webhookId);
  cmp('outcome', '=', f.outcome);
  cmp('eventType', '=', f.eventType);
  cmp('url', '=', f.url);
  cmp('test', '=', f.test);
  cmp('timestamp', '>=', f.from);
  cmp('timestamp', '<=', f.to);
  return { where: conds.join(' AND '), params };
}

/**
 * The SQL of the finished rows [offset, offset + limit) newest first (at equal times by id,
 * descending): the page's keys from the index alone, then only its rows from the table by `_id`.
 */
export function finishedRowsQuery(filter: FinishedRowFilter, offset: number, limit: number) {
  const { where, params } = whereOf(filter);
  const [ts, id] = [col('timestamp'), col('_id')];
  return {
    sql: `WITH page AS (
        SELECT ${ts} AS ts, ${id} AS id FROM {table} WHERE ${where}
        ORDER BY ${ts} DESC, ${id} DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2})
      SELECT t._jsonb AS doc FROM page JOIN {table} t ON t._jsonb->'_id' = page.id ORDER BY page.ts DESC, page.id DESC`,
    params: [...params, limit, offset],
  };
}

/** The SQL counting the finished rows that match, up to `upTo` (an index-only scan). */
export function countFinishedRowsQuery(filter: FinishedRowFilter, upTo: number) {
  const { where, params } = whereOf(filter);
  return {
    sql: `SELECT count(*) AS n FROM (SELECT 1 FROM {table} WHERE ${where} LIMIT $${params.length + 1}) AS matching`,
    params: [...params, upTo + 1],
  };
}

export async function finishedRowsSql(
  store: DirectStore,
  filter: FinishedRowFilter,
  offset: number,
  limit: number,
): Promise<LogRow[]> {
  const { sql, params } = finishedRowsQuery(filter, offset, limit);
  const rows = await store.query<{ doc: Parameters<typeof decodeDocument>[0] }>(collection(), sql, params);
  return rows.map((r) => decodeDocument<LogRow>(r.doc));
}

/** How many finished rows match, counted up to `upTo`. */
export async function countFinishedRowsSql(
  store: DirectStore,
  filter: FinishedRowFilter,
  upTo: number,
): Promise<{ count: number; exact: boolean }> {
  const { sql, params } = countFinishedRowsQuery(filter, upTo);
  const [row] = await store.query<{ n: string }>(collection(), sql, params);
  const n = Number(row?.n ?? 0);
  return { count: Math.min(n, upTo), exact: n <= upTo };
}
