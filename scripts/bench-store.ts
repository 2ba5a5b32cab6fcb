/**
 * `npm run bench:store`: the embedded store at a month of data. Starts a store (no Temporal) in a
 * data folder, seeds delivery log rows and stored events through the project's models (insertMany in
 * batches), spread evenly over webhooks, organizations and days, then prints what a person and the
 * delivery path feel: the logs page (first, filtered, offset 1,000), manual fire's latest-incident
 * lookup, an attempt's and an event's store work against an empty database, CPU per insert of the
 * store's processes (from /proc), retention of every seeded row while attempts go on, disk and
 * memory. A benchmark, not a test; wall-clock figures are noisy on a shared machine.
 *
 *   npm run bench:store -- --rows 100000 [--events N] [--webhooks 50] [--orgs 10] [--days 30]
 *                          [--samples 40] [--data-dir DIR (kept, reused when seeded)] [--no-retention]
 *                          [--retention-days N (delete only the N oldest seeded days)]
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { connectDatabase, disconnectDatabase } from '../src/db/connect';
import { AttemptInFlight, DeliveryLog, attemptLogId, deliveryLogKeys, periodOf } from '../src/db/deliveryLog';
import { StoredEvent, eventKey } from '../src/db/event';
import { readLogPage } from '../src/deliveryLogs/read';
import { latestIncident } from '../src/events/incident';
import { deleteDataOlderThan } from '../src/retention/sweep';
import { freePort, startStack } from '../src/stack';
import { findPostgresBinDir, SOCKET_PORT } from '../src/stack/postgres';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : fallback;
}
const stringFlag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const ROWS = flag('rows', 1_000_000);
const EVENTS = flag('events', ROWS);
const WEBHOOKS = flag('webhooks', 50);
const ORGS = flag('orgs', 10);
const DAYS = flag('days', 30);
const SAMPLES = flag('samples', 40);
const BATCH = 1000;
const RETENTION = !process.argv.includes('--no-retention');
/** How many of the oldest seeded days the retention measure deletes (all by default). */
const RETENTION_DAYS = flag('retention-days', DAYS);
const KEEP_DIR = stringFlag('data-dir');

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 1 : 0) : '-');

async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

/** Processes of the store: those whose command line names the data folder, and their children. */
function storePids(dataDir: string): number[] {
  const procs = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((pid) => {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
        return { pid: Number(pid), ppid, cmd };
      } catch {
        return null;
      }
    })
    .filter((p) => p !== null);
  // FerretDB names the folder URL-encoded (its PostgreSQL URL), postgres as it is.
  const named = (cmd: string) => cmd.includes(dataDir) || cmd.includes(encodeURIComponent(dataDir));
  const roots = new Set(procs.filter((p) => named(p.cmd) && p.pid !== process.pid).map((p) => p.pid));
  return procs.filter((p) => roots.has(p.pid) || roots.has(p.ppid)).map((p) => p.pid);
}

/** CPU seconds (user + system) the store's processes have used so far, exited children of postgres included. */
function storeCpuSeconds(dataDir: string): number {
  const tick = 100; // USER_HZ
  let total = 0;
  for (const pid of storePids(dataDir)) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      // utime stime cutime cstime: fields 14-17, here offset by the two before ')'.
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / tick;
    } catch {
      /* gone */
    }
  }
  return total;
}

/** Proportional set size (MB) of the store's processes: shared buffers counted once. */
function storePssMb(dataDir: string): { ferretdb: number; postgres: number } {
  const out = { ferretdb: 0, postgres: 0 };
  for (const pid of storePids(dataDir)) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const pss = Number(/Pss:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
      if (cmd.includes('ferretdb')) out.ferretdb += pss;
      else out.postgres += pss;
    } catch {
      /* gone */
    }
  }
  return out;
}

const body = (n: number) =>
  JSON.stringify({
    event: { id: `e${n}`, type: 'incident.triggered' },
    data: {
      resource_data: { id: `inc${Math.floor(n / 5)}`, message: 'x'.repeat(1200) },
      team: { id: 't', name: 'team' },
    },
  });

function logRow(n: number, at: Date, webhooks: { org: string; id: string }[]) {
  const wh = webhooks[n % webhooks.length];
  const deliveryId = `msg_${n}`;
  const url = 'https://receiver.example/hook';
  // By the row's place among its webhook's rows, so every webhook has the same mix.
  const k = Math.floor(n / webhooks.length);
  const outcome = k % 50 === 0 ? 'failed' : k % 10 === 0 ? 'retrying' : 'delivered';
  return {
    _id: attemptLogId(deliveryId, url, 1),
    organizationId: wh.org,
    webhookId: wh.id,
    deliveryId,
    eventId: `e${n}`,
    eventType: 'incident.triggered',
    url,
    method: 'POST',
    attempt: 1,
    maxAttempts: 4,
    requestHeaders: [
      { name: 'content-type', value: 'application/json' },
      { name: 'webhook-signature', value: 'v1,********' },
    ],
    requestBody: body(n),
    timestamp: at,
    outcome,
    status: outcome === 'delivered' ? 200 : 500,
    error: outcome === 'delivered' ? null : 'HTTP 500',
    durationMs: 12,
    responseBody: 'ok',
    // Inserted lean (no validation hook): the bucket keys are added here.
    ...deliveryLogKeys(wh.id, at),
  };
}

function storedEvent(n: number, at: Date, orgs: string[]) {
  const org = orgs[n % orgs.length];
  return {
    _id: eventKey(org, `e${n}`),
    organizationId: org,
    eventId: `e${n}`,
    eventType: 'incident.triggered',
    incidentId: `inc${Math.floor(n / 5)}`,
    eventAt: at,
    body: body(n),
    workflowId: `event-${org}-e${n}`,
    receivedAt: at,
    period: periodOf(at),
  };
}

/** Spreads `count` items over `DAYS` days ending now (item 0 oldest). */
const spread = (count: number, now: number) => (n: number) =>
  new Date(now - DAYS * 86_400_000 + ((n + 0.5) * DAYS * 86_400_000) / count);

/** Inserts `count` documents made by `make`, BATCH at a time, a few batches in flight (the store has two processes to keep busy). */
async function insertInBatches(
  count: number,
  make: (n: number) => object,
  insert: (docs: object[]) => Promise<unknown>,
) {
  const t = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const start = next;
      next += BATCH;
      const docs = [];
      for (let n = start; n < Math.min(count, start + BATCH); n++) docs.push(make(n));
      await insert(docs);
      done += docs.length;
      if (done % (100 * BATCH) === 0)
        console.error(`  ${done} / ${count} (${((performance.now() - t) / 1000).toFixed(0)} s)`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return (performance.now() - t) / 1000;
}

/** An attempt's store work as the delivery path does it: mark in flight, log row, mark deleted. */
async function attemptStoreWork(i: number, webhookId: string, org: string) {
  const at = new Date();
  const deliveryId = `bench_${process.pid}_${i}_${crypto.randomUUID()}`;
  const url = 'https://receiver.example/hook';
  const mark = `${deliveryId}:1`;
  const base = {
    organizationId: org,
    webhookId,
    deliveryId,
    eventId: `x${i}`,
    eventType: 'incident.triggered',
    url,
    method: 'POST',
    attempt: 1,
    maxAttempts: 4,
    requestBody: body(i),
    timestamp: at,
  };
  await AttemptInFlight.create({ _id: mark, ...base, trigger: 'event' });
  await DeliveryLog.create({
    _id: attemptLogId(deliveryId, url, 1),
    ...base,
    outcome: 'delivered',
    status: 200,
    durationMs: 5,
  });
  await AttemptInFlight.deleteOne({ _id: mark });
}

/** An event's store work: its record, written by the event's run (the API writes nothing). */
async function ingestStoreWork(i: number, org: string) {
  const id = `ingest_${process.pid}_${i}_${crypto.randomUUID()}`;
  await StoredEvent.create({ ...storedEvent(i, new Date(), [org]), _id: eventKey(org, id), eventId: id });
}

function row(name: string, times: number[], target: string) {
  console.log(`| ${name} | ${ms(percentile(times, 50))} | ${ms(percentile(times, 99))} | ${target} |`);
}

async function main() {
  const dataDir = KEEP_DIR ? path.resolve(KEEP_DIR) : fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-bench-store-'));
  fs.mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  console.error(
    `bench:store: store in ${dataDir}, ${ROWS} log rows and ${EVENTS} events over ${WEBHOOKS} webhooks, ${ORGS} orgs, ${DAYS} days`,
  );
  const stack = await startStack({ dataDir, store: { port, database: 'bench' }, log: () => {} });
  const uri = stack.mongoUri!;
  // Ctrl-C: the store's processes run detached, so they are stopped here.
  process.on('SIGINT', () => void stack.stop().then(() => process.exit(130)));
  try {
    const orgs = Array.from({ length: ORGS }, (_, i) => `org${i}`);
    const webhooks = Array.from({ length: WEBHOOKS }, (_, i) => ({
      org: orgs[i % ORGS],
      id: new mongoose.Types.ObjectId(crypto.createHash('md5').update(`wh${i}`).digest('hex').slice(0, 24)).toString(),
    }));

    // The empty baseline: the same work in a database with nothing in it.
    await connectDatabase(uri.replace(/\/bench$/, '/benchempty'), stack.storePostgresUrl);
    await timeEach(20, (i) => attemptStoreWork(i, webhooks[0].id, webhooks[0].org)); // warm-up
    const cpu0 = storeCpuSeconds(dataDir);
    const emptyAttempt = await timeEach(SAMPLES * 5, (i) => attemptStoreWork(i, webhooks[0].id, webhooks[0].org));
    const emptyAttemptCpu = (storeCpuSeconds(dataDir) - cpu0) / (SAMPLES * 5);
    const emptyIngest = await timeEach(SAMPLES * 5, (i) => ingestStoreWork(i, orgs[0]));
    // One log-row insert on its own, as the delivery path writes it (validation hook included).
    const cpu2 = storeCpuSeconds(dataDir);
    await timeEach(SAMPLES * 5, (i) =>
      DeliveryLog.create({
        ...logRow(i, new Date(), webhooks),
        _id: new mongoose.Types.ObjectId(),
        logHour: undefined,
      }),
    );
    const logInsertCpu = (storeCpuSeconds(dataDir) - cpu2) / (SAMPLES * 5);
    console.error(
      `empty store: CPU per attempt ${(emptyAttemptCpu * 1000).toFixed(2)} ms, per log-row insert ${(logInsertCpu * 1000).toFixed(2)} ms`,
    );
    await mongoose.connection.db!.dropDatabase();
    await disconnectDatabase();

    await connectDatabase(uri, stack.storePostgresUrl);
    // A kept folder is seeded once (a retention measure then deletes only its oldest days).
    const marker = path.join(dataDir, `seeded-${ROWS}-${EVENTS}-${WEBHOOKS}-${ORGS}-${DAYS}`);
    const seeded = fs.existsSync(marker) && (await DeliveryLog.exists({})) !== null;
    const now = seeded ? Date.parse(fs.readFileSync(marker, 'utf8')) : Date.now();
    if (!seeded) {
      await DeliveryLog.deleteMany({});
      await StoredEvent.deleteMany({});
      const logAt = spread(ROWS, now);
      const cpuSeed = storeCpuSeconds(dataDir);
      const logSecs = await insertInBatches(
        ROWS,
        (n) => logRow(n, logAt(n), webhooks),
        (docs) => DeliveryLog.insertMany(docs, { ordered: false }),
      );
      const seedCpu = storeCpuSeconds(dataDir) - cpuSeed;
      const eventAt = spread(EVENTS, now);
      const eventSecs = await insertInBatches(
        EVENTS,
        (n) => storedEvent(n, eventAt(n), orgs),
        (docs) => StoredEvent.insertMany(docs, { ordered: false }),
      );
      fs.writeFileSync(marker, new Date(now).toISOString());
      console.error(
        `seeded: ${ROWS} log rows in ${logSecs.toFixed(0)} s (store CPU ${((seedCpu / ROWS) * 1e6).toFixed(0)} µs/row batched), ${EVENTS} events in ${eventSecs.toFixed(0)} s`,
      );
    }

    // The logs page, as the route asks for it.
    const at = () => ({ now: new Date(), oldest: new Date(now - (DAYS + 1) * 86_400_000), runningSince: new Date() });
    const page = (i: number, extra: object) => {
      const wh = webhooks[(i * 7) % WEBHOOKS];
      return readLogPage({ organizationId: wh.org, webhookId: wh.id, offset: 0, limit: 20, ...extra }, at());
    };
    await page(0, {}); // warm-up
    const first = await timeEach(SAMPLES, (i) => page(i, {}));
    const failed = await timeEach(SAMPLES, (i) => page(i, { outcome: 'failed' }));
    const delivered = await timeEach(SAMPLES, (i) => page(i, { outcome: 'delivered' }));
    const deep = await timeEach(SAMPLES, (i) => page(i, { offset: 1000 }));
    const sample = await page(1, { offset: 1000 });
    const incident = await timeEach(SAMPLES, (i) =>
      latestIncident(orgs[(i * 5) % ORGS], `inc${Math.floor(((i * 104_729) % EVENTS) / 5)}`),
    );

    await timeEach(20, (i) => attemptStoreWork(i, webhooks[1].id, webhooks[1].org)); // warm-up
    const cpu1 = storeCpuSeconds(dataDir);
    const fullAttempt = await timeEach(SAMPLES * 5, (i) => attemptStoreWork(i, webhooks[1].id, webhooks[1].org));
    const fullAttemptCpu = (storeCpuSeconds(dataDir) - cpu1) / (SAMPLES * 5);
    const fullIngest = await timeEach(SAMPLES * 5, (i) => ingestStoreWork(i, orgs[1]));

    const binDir = findPostgresBinDir();
    const sizes =
      binDir && fs.existsSync(path.join(dataDir, 'postgres'))
        ? execFileSync(
            'psql',
            [
              '-h',
              path.join(dataDir, 'postgres'),
              '-p',
              String(SOCKET_PORT),
              '-U',
              'postgres',
              '-d',
              'postgres',
              '-tAc',
              "select c.relname, pg_total_relation_size(c.oid) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'bench' and c.relkind = 'r' and (c.relname like 'deliverylogs_%' or c.relname like 'events_%')",
            ],
            { encoding: 'utf8', env: { ...process.env, PATH: `${binDir}:${process.env.PATH}` } },
          )
        : '';
    const bytes = (prefix: string) =>
      Number(/\|(\d+)/.exec(sizes.split('\n').find((l) => l.startsWith(prefix)) ?? '')?.[1] ?? NaN);
    const pss = storePssMb(dataDir);

    console.log(
      `\n${ROWS.toLocaleString('en')} log rows + ${EVENTS.toLocaleString('en')} events, ${WEBHOOKS} webhooks, ${ORGS} orgs, ${DAYS} days (${(ROWS / WEBHOOKS / DAYS).toFixed(0)} rows per webhook-day)\n`,
    );
    console.log('| measure | p50 ms | p99 ms | target |');
    console.log('|---|---|---|---|');
    row('logs: newest 20 of one webhook', first, 'p50 ≤ 50, p99 ≤ 200');
    row('logs: outcome=failed (2% of rows)', failed, 'p50 ≤ 50, p99 ≤ 200');
    row('logs: outcome=delivered (88%)', delivered, 'p50 ≤ 50, p99 ≤ 200');
    row('logs: offset 1,000', deep, 'p50 ≤ 50, p99 ≤ 200');
    row('manual fire: latest incident', incident, '≤ 20');
    row('attempt store work, empty store', emptyAttempt, '');
    row('attempt store work, seeded', fullAttempt, 'within 10% of empty');
    row('event ingest store work, empty store', emptyIngest, '');
    row('event ingest store work, seeded', fullIngest, 'within 10% of empty');
    console.log(
      `\nstore CPU per attempt (mark + row + unmark): empty ${(emptyAttemptCpu * 1000).toFixed(2)} ms, seeded ${(fullAttemptCpu * 1000).toFixed(2)} ms`,
    );
    console.log(`store CPU per log-row insert (empty store): ${(logInsertCpu * 1000).toFixed(2)} ms`);
    console.log(`offset-1,000 page: total_count ${sample.totalCount} (${sample.exact ? 'exact' : 'lower bound'})`);
    console.log(
      `disk: delivery logs ${(((bytes('deliverylogs') / ROWS) * 1e6) / 2 ** 30).toFixed(2)} GiB per million rows, events ${(((bytes('events') / EVENTS) * 1e6) / 2 ** 30).toFixed(2)} GiB per million`,
    );
    console.log(`store memory (PSS): FerretDB ${pss.ferretdb.toFixed(0)} MB, PostgreSQL ${pss.postgres.toFixed(0)} MB`);

    if (RETENTION) {
      // Every seeded row expires; attempts go on meanwhile and their store time is watched.
      let stop = false;
      const during: number[] = [];
      const attempts = (async () => {
        for (let i = 0; !stop; i++) {
          const t = performance.now();
          await attemptStoreWork(100_000 + i, webhooks[2].id, webhooks[2].org);
          during.push(performance.now() - t);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const t = performance.now();
      // Attempts stop with the sweep, also when it fails (the store is disconnected afterwards).
      const counts = await deleteDataOlderThan(new Date(now - (DAYS - RETENTION_DAYS) * 86_400_000 + 1000)).finally(
        () => {
          stop = true;
        },
      );
      const secs = (performance.now() - t) / 1000;
      await attempts;
      during.sort((a, b) => a - b);
      console.log(
        `retention: ${counts.deliveryLogs.toLocaleString('en')} log rows + ${counts.events.toLocaleString('en')} events deleted in ${secs.toFixed(0)} s ` +
          `(${((secs / Math.max(1, counts.deliveryLogs)) * 1e6).toFixed(0)} s per million log rows with their events; target ≤ 120 s for 1M rows); ` +
          `attempts alongside: ${during.length}, p50 ${ms(percentile(during, 50))} ms, p99 ${ms(percentile(during, 99))} ms (target ≤ 50)`,
      );
    }
    console.log(`store PSS at the end: ${JSON.stringify(storePssMb(dataDir))}`);
  } finally {
    await disconnectDatabase().catch(() => undefined);
    await stack.stop();
    if (!KEEP_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
