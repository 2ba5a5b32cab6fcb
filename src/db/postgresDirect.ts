/**
 * Direct SQL to the PostgreSQL under the embedded store (FerretDB v1 on PostgreSQL), for the few
 * reads FerretDB cannot serve from an index: it pushes only equality filters down, never a range,
 * sort, limit or skip, and decodes every document a filter matches (about 0.3 ms for a 1.5 KB log
 * row). The logs page (newest first, by offset) and retention (a time range) are one indexed SQL
 * statement here instead. Everything else, and every write, still goes through mongoose.
 *
 * Off unless STORE_POSTGRES_URL is set (npm start, npm test and the benches set it for the stack they
 * start); then callers use `directStore()`, and null means: use the mongoose query, valid on any
 * MongoDB-compatible store.
 *
 * FerretDB v1 keeps a database as a PostgreSQL schema of the same name and a collection as a table
 * named in `_ferretdb_database_metadata`, one `_jsonb` column per document: fields as JSON, their
 * BSON types in `$s` (a date is milliseconds since the epoch, an ObjectId its hex string).
 */
import mongoose from 'mongoose';
import pg from 'pg';

export interface DirectStore {
  /** Rows of `sql`, where `{table}` stands for the collection's table (none yet: no rows). */
  query<R extends pg.QueryResultRow>(collection: string, sql: string, params: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

let current: DirectStore | null = null;

/** The direct store, when STORE_POSTGRES_URL is set and the mongoose connection is up. */
export function directStore(): DirectStore | null {
  return current;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const UNDEFINED_TABLE = '42P01';

export function openDirectStore(postgresUrl: string, database: string): DirectStore {
  // A small pool: these are a person's reads and the hourly sweep, not the delivery path.
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 4, idleTimeoutMillis: 10_000 });
  pool.on('error', () => {}); // an idle client lost with the server: the next query reconnects
  const schema = quoteIdent(database);
  const tables = new Map<string, string>();

  async function tableOf(collection: string): Promise<string | undefined> {
    const known = tables.get(collection);
    if (known) return known;
    const { rows } = await pool
      .query<{ table: string }>(
        `SELECT _jsonb->>'table' AS table FROM ${schema}._ferretdb_database_metadata WHERE _jsonb->>'_id' = $1`,
        [collection],
      )
      .catch((err: { code?: string }) => {
        if (err.code === UNDEFINED_TABLE) return { rows: [] }; // no collection in this database yet
        throw err;
      });
    if (rows[0]) tables.set(collection, `${schema}.${quoteIdent(rows[0].table)}`);
    return tables.get(collection);
  }

  return {
    async query<R extends pg.QueryResultRow>(collection: string, sql: string, params: unknown[]): Promise<R[]> {
      for (let tries = 0; ; tries++) {
        const table = await tableOf(collection);
        if (!table) return [];
        try {
          return (await pool.query<R>(sql.replaceAll('{table}', table), params)).rows;
        } catch (err) {
          // The collection was dropped (and maybe made again under another table name).
          if ((err as { code?: string }).code !== UNDEFINED_TABLE || tries > 0) throw err;
          tables.delete(collection);
        }
      }
    },
    close: () => pool.end(),
  };
}

/** Opens the direct store for the connected mongoose database (STORE_POSTGRES_URL set). */
export function connectDirectStore(postgresUrl: string | undefined): void {
  if (!postgresUrl) return;
  current = openDirectStore(postgresUrl, mongoose.connection.db!.databaseName);
}

export async function disconnectDirectStore(): Promise<void> {
  const store = current;
  current = null;
  await store?.close();
}

interface FieldType {
  t: string;
  $s?: { p: Record<string, FieldType> };
  i?: FieldType[];
}

function decodeValue(value: unknown, type: FieldType | undefined): unknown {
  if (!type || value === null) return value;
  switch (type.t) {
    case 'date':
      return new Date(value as number);
    case 'objectId':
      return new mongoose.Types.ObjectId(value as string);
    case 'object':
      return decodeFields(value as Record<string, unknown>, type.$s?.p ?? {});
    case 'array':
      return (value as unknown[]).map((v, i) => decodeValue(v, type.i?.[i]));
    default:
      return value;
  }
}

function decodeFields(doc: Record<string, unknown>, types: Record<string, FieldType>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key !== '$s') out[key] = decodeValue(value, types[key]);
  }
  return out;
}

/** A document as FerretDB stores it (`_jsonb`), as mongoose's `lean()` would give it. */
export function decodeDocument<T>(jsonb: { $s?: { p: Record<string, FieldType> } } & Record<string, unknown>): T {
  return decodeFields(jsonb, jsonb.$s?.p ?? {}) as T;
}

/**
 * Fields copied out of the document into plain columns (`k_<field>`, generated by PostgreSQL on every
 * write, src/stack/postgres.ts). A B-tree on columns, unlike one on `_jsonb->` expressions, can answer
 * a query by itself (an index-only scan): counting a webhook's rows, or skipping the first 1,000 of
 * them, then reads index pages in order instead of one scattered table page per row.
 */
export const STORE_KEY_COLUMNS: Record<string, readonly string[]> = {
  deliverylogs: ['organizationId', 'webhookId', 'outcome', 'timestamp', '_id'],
};

/** How SQL names `field` of a collection's documents: its key column, or the `_jsonb` expression. */
export function fieldSql(collection: string, field: string): string {
  return STORE_KEY_COLUMNS[collection]?.includes(field) ? `k_${field.toLowerCase()}` : `_jsonb->'${field}'`;
}

/** A value as FerretDB stores it in `_jsonb`, for comparing in SQL (`_jsonb->'f' = $1::jsonb`). */
export function jsonbValue(value: string | number | boolean | Date): string {
  return JSON.stringify(value instanceof Date ? value.getTime() : value);
}
