import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fieldSql, STORE_KEY_COLUMNS } from '../db/postgresDirect';

/**
 * The embedded store's PostgreSQL: a private cluster under the stack's data folder that FerretDB
 * (its PostgreSQL backend) reaches over a unix socket in that folder. No TCP listener, so it needs
 * no port and cannot collide with a PostgreSQL the machine already runs.
 *
 * PostgreSQL, not FerretDB's SQLite backend, because SQLite there uses no index for reads: every
 * read scans the whole collection (10 s for a page of logs at 20,000 rows). On PostgreSQL the
 * equality filters FerretDB pushes down (`_jsonb->'field' @> value`) can use GIN indexes, which
 * FerretDB does not create itself: STORE_INDEXES below are made by an event trigger on every table
 * FerretDB creates.
 */

/** The binaries directory of an installed PostgreSQL (HOOKRELAY_PG_BINDIR, `pg_config --bindir`, Debian's layout). */
export function findPostgresBinDir(): string | undefined {
  const has = (dir: string) =>
    ['initdb', 'postgres', 'pg_isready', 'psql'].every((b) => fs.existsSync(path.join(dir, b)));
  // Named: that folder or nothing (a wrong path is an error to fix, not a reason to pick another).
  if (process.env.HOOKRELAY_PG_BINDIR)
    return has(process.env.HOOKRELAY_PG_BINDIR) ? process.env.HOOKRELAY_PG_BINDIR : undefined;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (has(dir)) return dir;
  } catch {
    /* no pg_config on PATH */
  }
  // Debian/Ubuntu put the server's binaries off PATH, one folder per major version: newest first.
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    for (const v of fs.readdirSync(debian).sort((a, b) => Number(b) - Number(a))) {
      if (has(path.join(debian, v, 'bin'))) return path.join(debian, v, 'bin');
    }
  }
  return undefined;
}

export const MISSING_POSTGRES =
  'The embedded store needs PostgreSQL (13 or newer) installed, and none was found (looked at ' +
  'HOOKRELAY_PG_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/*/bin).\n' +
  'Install it: Debian/Ubuntu `apt-get install postgresql`, Fedora `dnf install postgresql-server`, ' +
  'macOS `brew install postgresql@16`; or point HOOKRELAY_PG_BINDIR at its bin folder; or set MONGODB_URI ' +
  'to a MongoDB (docker-compose up mongo), or HOOKRELAY_EMBEDDED_STORE=sqlite for the old SQLite store ' +
  '(slow past some thousand log rows).';

/**
 * Fields that get a GIN index on `(_jsonb->'field') jsonb_path_ops`, per collection ('*': every
 * collection). Only equality filters reach PostgreSQL from FerretDB v1, as `@>` on that expression.
 */
export const STORE_INDEXES: Record<string, string[]> = {
  '*': ['_id'],
  deliverylogs: ['deliveryId'],
  events: ['incidentId'],
  webhooks: ['organizationId'],
  apikeys: ['keyHash'],
};

/**
 * B-tree indexes for the service's own SQL (src/db/postgresDirect.ts): the logs page newest first,
 * whole or by outcome, and retention by time, each one index range scan. A field with a key column
 * (STORE_KEY_COLUMNS) is indexed as that column, so these indexes serve index-only scans.
 */
export const STORE_BTREE_INDEXES: Record<string, string[][]> = {
  // The organization leads (every read names it), so both equalities are index conditions and
  // PostgreSQL walks the index in order instead of sorting what a misjudged filter left.
  deliverylogs: [
    ['organizationId', 'webhookId', 'timestamp', '_id'],
    ['organizationId', 'webhookId', 'outcome', 'timestamp', '_id'],
    ['timestamp'],
  ],
  events: [['receivedAt']],
};

/** GIN indexes of earlier versions that nothing reads any more (each costs every insert): dropped. */
const RETIRED_GIN_INDEXES: Record<string, string[]> = {
  deliverylogs: ['logHour', 'logDay', 'period'],
  events: ['period'],
};

/** B-tree indexes of earlier versions on `_jsonb->` expressions, by their name key: dropped. */
const RETIRED_BTREE_INDEXES: Record<string, string[]> = {
  deliverylogs: [
    'webhookId_timestamp__id',
    'webhookId_outcome_timestamp__id',
    'organizationId_webhookId_timestamp__id',
    'organizationId_webhookId_outcome_timestamp__id',
    'timestamp',
  ],
};

/** An index's name key: its fields, marked when it is on key columns (a new index, a new name). */
const btreeNameKey = (collection: string, fields: string[]) =>
  (fields.some((f) => STORE_KEY_COLUMNS[collection]?.includes(f)) ? 'k:' : '') + fields.join('_');

const sqlString = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * SQL that makes the indexes above on a FerretDB table (`<collection>_<hash>`): a function, an event
 * trigger calling it for every table created from now on, and one pass over the tables there already
 * are (a cluster from before these lists changed). Idempotent.
 */
export function storeIndexSql(): string {
  const pairs = (list: Record<string, string[]>) =>
    Object.entries(list).flatMap(([coll, fields]) => fields.map((f) => `(${sqlString(coll)}, ${sqlString(f)})`));
  const btrees = Object.entries(STORE_BTREE_INDEXES).flatMap(([coll, indexes]) =>
    indexes.map((fields) => {
      const columns = fields.map((f) => `(${fieldSql(coll, f)})`).join(', ');
      return `(${sqlString(coll)}, ${sqlString(btreeNameKey(coll, fields))}, ${sqlString(columns)})`;
    }),
  );
  // One ALTER per table adds all its key columns: each ALTER that adds a stored column rewrites the table.
  const keyColumns = Object.entries(STORE_KEY_COLUMNS).map(([coll, fields]) => {
    const adds = fields.map(
      (f) => `ADD COLUMN IF NOT EXISTS ${fieldSql(coll, f)} jsonb GENERATED ALWAYS AS (_jsonb->${sqlString(f)}) STORED`,
    );
    return `(${sqlString(coll)}, ${sqlString(adds.join(', '))})`;
  });
  return `
CREATE OR REPLACE FUNCTION public.hookrelay_index_table(tbl regclass) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  rel record;
  want record;
BEGIN
  SELECT n.nspname AS schema, c.relname AS name INTO rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
  IF rel.name !~ '^[a-z0-9_.$-]+_[0-9a-f]{8}$' OR rel.schema IN ('public', 'pg_catalog') THEN RETURN; END IF;
  FOR want IN SELECT * FROM (VALUES ${keyColumns.join(', ')}) AS w(coll, adds) LOOP
    IF rel.name ~ ('^' || want.coll || '_[0-9a-f]{8}$') THEN
      EXECUTE format('ALTER TABLE %I.%I ' || want.adds, rel.schema, rel.name);
      -- Index-only scans skip a table page once VACUUM marked it all-visible: vacuum an insert-mostly
      -- log every 1% of new rows, not PostgreSQL's default 20%.
      EXECUTE format('ALTER TABLE %I.%I SET (autovacuum_vacuum_insert_scale_factor = 0.01)', rel.schema, rel.name);
    END IF;
  END LOOP;
  FOR want IN SELECT * FROM (VALUES ${pairs(STORE_INDEXES).join(', ')}) AS w(coll, field) LOOP
    IF want.coll = '*' OR rel.name ~ ('^' || want.coll || '_[0-9a-f]{8}$') THEN
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb->%L) jsonb_path_ops)',
        left(rel.name, 40) || '_' || md5(want.field) || '_gin', rel.schema, rel.name, want.field);
    END IF;
  END LOOP;
  FOR want IN SELECT * FROM (VALUES ${pairs(RETIRED_GIN_INDEXES).join(', ')}) AS w(coll, field) LOOP
    IF rel.name ~ ('^' || want.coll || '_[0-9a-f]{8}$') THEN
      EXECUTE format('DROP INDEX IF EXISTS %I.%I', rel.schema, left(rel.name, 40) || '_' || md5(want.field) || '_gin');
    END IF;
  END LOOP;
  FOR want IN SELECT * FROM (VALUES ${pairs(RETIRED_BTREE_INDEXES).join(', ')}) AS w(coll, fields) LOOP
    IF rel.name ~ ('^' || want.coll || '_[0-9a-f]{8}$') THEN
      EXECUTE format('DROP INDEX IF EXISTS %I.%I', rel.schema, left(rel.name, 40) || '_' || md5(want.fields) || '_btree');
    END IF;
  END LOOP;
  FOR want IN SELECT * FROM (VALUES ${btrees.join(', ')}) AS w(coll, fields, columns) LOOP
    IF rel.name ~ ('^' || want.coll || '_[0-9a-f]{8}$') THEN
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I (' || want.columns || ')',
        left(rel.name, 40) || '_' || md5(want.fields) || '_btree', rel.schema, rel.name);
    END IF;
  END LOOP;
END $fn$;

CREATE OR REPLACE FUNCTION public.hookrelay_on_create_table() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE cmd record;
BEGIN
  FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP
    PERFORM public.hookrelay_index_table(cmd.objid::regclass);
  END LOOP;
END $fn$;

DROP EVENT TRIGGER IF EXISTS hookrelay_indexes;
CREATE EVENT TRIGGER hookrelay_indexes ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION public.hookrelay_on_create_table();

SELECT public.hookrelay_index_table(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('public', 'pg_catalog', 'information_schema');
`;
}

/** Runs PostgreSQL's programs as the `postgres` user when we are root: initdb and postgres refuse root. */
export function asClusterOwner(binDir: string, program: string, args: string[]): [string, string[]] {
  const bin = path.join(binDir, program);
  if (process.getuid?.() !== 0) return [bin, args];
  return ['runuser', ['-u', 'postgres', '--', bin, ...args]];
}

function run(binDir: string, program: string, args: string[]): Promise<string> {
  const [cmd, argv] = asClusterOwner(binDir, program, args);
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${program} ${args.join(' ')} failed: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

/**
 * Makes `dir` a cluster (first start only), owned by the postgres user when we are root. That user
 * must get through the folders above it: the stack's own data folder (a `mkdtemp` one is 0700) is
 * opened for traversal only (x, nothing listable); any other folder in the way is an error to fix.
 */
export async function initCluster(binDir: string, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      throw new Error(
        'running as root, PostgreSQL needs a `postgres` user to own its cluster (the Debian package makes one)',
      );
    }
    const parent = path.dirname(dir);
    fs.chmodSync(parent, fs.statSync(parent).mode | 0o011);
    execFileSync('chown', ['-R', 'postgres:postgres', dir]);
    fs.chmodSync(dir, 0o700);
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dir], { stdio: 'ignore' });
    } catch {
      throw new Error(
        `the postgres user cannot reach ${dir}: a folder above it is closed to other users (give it o+x, or set HOOKRELAY_DATA_DIR elsewhere)`,
      );
    }
  }
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
  await run(binDir, 'initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
}

/**
 * The server's command line. Settings: only the unix socket; a lost commit on a crash (never a
 * corrupt cluster) for roughly half the CPU per insert; custom plans always, so a parameterized
 * `_jsonb->$1 @> $2` from FerretDB still matches an expression index.
 */
export function postgresArgs(binDir: string, dir: string): [string, string[]] {
  return asClusterOwner(binDir, 'postgres', [
    '-D',
    dir,
    '-k',
    dir,
    '-c',
    'listen_addresses=',
    '-c',
    'synchronous_commit=off',
    '-c',
    'plan_cache_mode=force_custom_plan',
    '-c',
    'work_mem=16MB',
    '-c',
    'log_min_messages=warning',
  ]);
}

export const SOCKET_PORT = 5432;

export async function waitForPostgres(binDir: string, dir: string, alive: () => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    const ok = await run(binDir, 'pg_isready', ['-q', '-h', dir, '-p', String(SOCKET_PORT)]).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('PostgreSQL did not start');
}

/** Creates the index trigger (idempotent). */
export async function prepareCluster(binDir: string, dir: string): Promise<void> {
  const file = path.join(dir, 'hookrelay-indexes.sql');
  fs.writeFileSync(file, storeIndexSql());
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', file]);
  await run(binDir, 'psql', [
    '-h',
    dir,
    '-p',
    String(SOCKET_PORT),
    '-U',
    'postgres',
    '-d',
    'postgres',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-f',
    file,
  ]);
}

/** The cluster for the service's own direct reads (src/db/postgresDirect.ts): node-postgres syntax. */
export const directPostgresUrl = (dir: string) =>
  `postgres://postgres@/postgres?host=${encodeURIComponent(dir)}&port=${SOCKET_PORT}`;

/** FerretDB's connection string for the cluster in `dir`. */
export const postgresUrl = (dir: string) =>
  `postgres://postgres@/postgres?host=${encodeURIComponent(dir)}&port=${SOCKET_PORT}&pool_max_conns=20`;
