/**
 * `npm run bench`: a benchmark, not a test. Starts its own stack (Temporal dev server and store on
 * free ports, a throw-away data folder), the API and a worker as child processes, and a receiver
 * on 127.0.0.1; creates webhooks, posts N events, and prints events accepted/s, deliveries/s,
 * accept→receipt latency, lost and duplicated deliveries, and the ceiling of a plain Node loop
 * POSTing to the same receiver. Stops everything by itself.
 *
 *   npm run bench -- --events 2000 --webhooks 2 --concurrency 32 [--rate 10] [--template slack] [--separate] [--compiled]
 *   npm run bench -- --storm 30 [--storm-seconds 60] [--freeze-store 20]   (see scripts/lib/storm.ts)
 *
 * --template <slug> makes every webhook a custom payload from that library template, so each
 * delivery also renders Jsonnet in the worker.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApiKey } from '../src/access/keys';
import { DeliveryLog } from '../src/db/deliveryLog';
import { Webhook } from '../src/db/webhook';
import { deliveryIdOf } from '../src/delivery/signing';
import { sampleEvent } from '../src/payloads/samples';
import { libraryTemplate } from '../src/templates/library';
import { build, buildIsCurrent, serviceProcessArgs } from './build';
import { visibilityRowsWritten } from '../src/stack/temporalMetrics';
import { numberFlag, startBenchService, waitFor } from './lib/benchService';
import { cpuByLabel, cpuDelta } from './lib/processCpu';
import { runStorm } from './lib/storm';

const EVENTS = numberFlag('events', 2000);
const WEBHOOKS = numberFlag('webhooks', 2);
const CONCURRENCY = numberFlag('concurrency', 32);
const DRAIN_TIMEOUT_MS = numberFlag('drain-timeout', 1200) * 1000;
/** Posts per second; 0 (default) posts as fast as the API accepts (a burst that builds a backlog). */
const RATE = numberFlag('rate', 0);
/** --storm R: the storm mode (scripts/lib/storm.ts) around a sustainable rate of R events/s. */
const STORM_RATE = numberFlag('storm', 0);
/**
 * --warm-up N: N events go through first, uncounted, as a service that has been up a while has seen;
 * a fresh process spends a burst's first minute compiling its hot code (V8's optimizing compiler).
 */
const WARM_UP = numberFlag('warm-up', 0);
/** API and worker as two processes (scale-out shape, no eager start) instead of one. */
const SEPARATE = process.argv.includes('--separate');
/**
 * --compiled: run what production runs, the compiled dist/ (built first when older than src/),
 * instead of src/ through tsx as `npm start` does by default. Measured: no difference beyond the
 * noise (docs/benchmarks.md).
 */
const COMPILED = process.argv.includes('--compiled');
/** --profile DIR: the API and worker processes write V8 CPU profiles there (open in Chrome DevTools). */
const PROFILE_DIR = (() => {
  const i = process.argv.indexOf('--profile');
  return i >= 0 ? path.resolve(process.argv[i + 1]) : undefined;
})();
const profileArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
const TEMPLATE_SLUG = (() => {
  const i = process.argv.indexOf('--template');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
const template = TEMPLATE_SLUG === undefined ? undefined : libraryTemplate(TEMPLATE_SLUG);
if (TEMPLATE_SLUG !== undefined && !template) {
  console.error(`--template: no library template '${TEMPLATE_SLUG}' (see src/templates/library/)`);
  process.exit(2);
}

/** Which part of the stack a descendant process is, from its command line. */
function stackPart(cmd: string, parentLabel: string | undefined): string {
  if (/temporal\S* server start-dev/.test(cmd)) return 'Temporal dev server';
  if (/ferretdb/i.test(cmd)) return 'store (FerretDB)';
  if (/postgres/.test(cmd)) return 'store (PostgreSQL)';
  if (/mongod\b/.test(cmd)) return 'store (mongod)';
  if (/(src|dist)\/api\/main/.test(cmd)) return 'API';
  if (/(src|dist)\/worker\/main/.test(cmd)) return 'worker';
  if (/(src|dist)\/service\/main/.test(cmd)) return 'API + worker (one process)';
  if (/jsonnet/.test(cmd)) return 'Jsonnet evaluators';
  return parentLabel ?? 'other';
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

interface Receipt {
  at: number;
  count: number;
}

/** Counts deliveries by (webhook-id, path): the first receipt time and how many times it came. */
async function startReceiver() {
  const receipts = new Map<string, Receipt>();
  let plain = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      if (typeof id === 'string') {
        const key = `${id} ${req.url}`;
        const seen = receipts.get(key);
        if (seen) seen.count++;
        else receipts.set(key, { at: performance.now(), count: 1 });
      } else {
        plain++;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    receipts,
    plainCount: () => plain,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

function post(agent: http.Agent, url: string, body: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Posts an event as a producer does: again on 5xx, after Retry-After when the API gives one (the
 * event id makes that safe), for up to two minutes. The last answer, and how many posts were repeats.
 */
async function postEvent(agent: http.Agent, api: string, key: string, event: object) {
  const body = JSON.stringify(event);
  const headers = { authorization: `Bearer ${key}` };
  let res = await post(agent, `${api}/v3/events`, body, headers);
  let reposts = 0;
  for (const giveUpAt = performance.now() + 120_000; res.status >= 500 && performance.now() < giveUpAt; reposts++) {
    const retryAfter = Number(res.headers['retry-after']);
    await new Promise((r) => setTimeout(r, (retryAfter > 0 ? retryAfter * 1000 : 200) * (0.5 + Math.random())));
    res = await post(agent, `${api}/v3/events`, body, headers);
  }
  return { res, reposts };
}

/**
 * CPU per delivery over the stack and by process (the bench's own load generator and receiver
 * shown, not counted), and how many cores the stack kept busy over `seconds`.
 */
function cpuReport(cpuUsed: Map<string, number>, delivered: number, seconds: number): string[] {
  const stackCpu = [...cpuUsed].filter(([label]) => !label.startsWith('bench'));
  const totalCpu = stackCpu.reduce((sum, [, ms]) => sum + ms, 0);
  return [
    `  CPU per delivered event ${fmt(totalCpu / delivered, 1)} ms over the stack (${fmt(totalCpu / 1000 / seconds, 2)} cores busy on average):`,
    ...[...cpuUsed]
      .sort((a, b) => b[1] - a[1])
      .map(([label, ms]) => `    ${label.padEnd(34)} ${fmt(ms / delivered, 1).padStart(6)} ms`),
  ];
}

/**
 * From the API's /metrics: its refusals of event posts by reason, how many runs started eagerly, and
 * rows per grouped insert command by collection (src/db/groupInsert.ts); from the dev server's own
 * metrics, the visibility rows it wrote by kind (tools/temporal holds started rows back). The
 * counters, by name.
 */
async function serviceCounts(api: string, temporalMetrics: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const counts = new Map<string, number>();
  const series =
    /^hookrelay_(requests_refused_total\{route="events",reason="\w+"\}|event_runs_started_total\{eager="\w+"\}|store_insert_batch_size_(?:sum|count)\{collection="\w+"\}) (\d+)/gm;
  for (const [, name, n] of text.matchAll(series)) counts.set(name, Number(n));
  const visibility = await visibilityRowsWritten(temporalMetrics);
  counts.set('visibility_started', visibility.started);
  counts.set('visibility_closed', visibility.closed);
  return counts;
}

/** The figures of serviceCounts, as counted since `before` (the counts when the run began). */
function serviceFigures(now: Map<string, number>, before = new Map<string, number>()) {
  const since = (name: string) => (now.get(name) ?? 0) - (before.get(name) ?? 0);
  const labels = (re: RegExp) => [...new Set([...now.keys()].flatMap((k) => k.match(re)?.[1] ?? []))];
  const eager = since('event_runs_started_total{eager="yes"}');
  return {
    refused: labels(/reason="(\w+)"/)
      .map((reason) => `${reason} ${since(`requests_refused_total{route="events",reason="${reason}"}`)}`)
      .join(', '),
    eager: `${eager} of ${eager + since('event_runs_started_total{eager="no"}')}`,
    insertGroups: labels(/collection="(\w+)"/)
      .map((c) => {
        const [rows, commands] = ['sum', 'count'].map((part) =>
          since(`store_insert_batch_size_${part}{collection="${c}"}`),
        );
        return `${c} ${rows} rows in ${commands} commands`;
      })
      .join(', '),
    visibilityRows: `${since('visibility_started')} started, ${since('visibility_closed')} closed`,
  };
}

async function main() {
  if (COMPILED && !buildIsCurrent()) await build();
  const t0 = Date.now();
  const receiver = await startReceiver();
  const service = await startBenchService({ name: 'bench', receiver, temporalMetrics: true });
  const temporalMetrics = service.temporalMetricsUrl!;
  const api = service.apiUrl;
  try {
    for (const name of SEPARATE ? (['api', 'worker'] as const) : (['service'] as const)) {
      service.spawnService(name, [...profileArgs, ...serviceProcessArgs(name, COMPILED)]);
    }
    await service.waitForApi();

    const owner = await createApiKey({ org: 'bench', role: 'owner' });
    for (let i = 0; i < WEBHOOKS; i++) {
      await Webhook.create({
        organizationId: owner.organizationId,
        slug: `bench-${i}`,
        name: `bench ${i}`,
        trigger_type: 'automatic',
        version: 'v2',
        ...(template && {
          payload_type: 'custom',
          custom_payload: template['template-code'],
          custom_payload_template_slug: template.slug,
        }),
        triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
        urls: [{ url: `${receiver.url}/hook/${i}`, method: 'POST' }],
        secrets: [
          { value: `whsec_${crypto.randomBytes(32).toString('base64')}`, createdAt: new Date(), expiresAt: null },
        ],
        author_id: owner.userId,
      });
    }
    // Ready once one event has gone through (or --warm-up N of them).
    const warmAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const warmUp = Math.max(1, WARM_UP);
    if (WARM_UP) console.error(`bench: warming up with ${warmUp} events…`);
    await pool(warmUp, CONCURRENCY, async (i) => {
      const warm = sampleEvent('incident.triggered');
      warm.event.id = `bench-warm-up-${i}`;
      await postEvent(warmAgent, api, owner.key, warm);
    });
    warmAgent.destroy();
    await waitFor('the warm-up deliveries', async () => receiver.receipts.size >= warmUp * WEBHOOKS, 600_000);
    receiver.receipts.clear();
    const countsBefore = await serviceCounts(api, temporalMetrics);
    console.error(`bench: stack, API and worker ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    if (STORM_RATE) {
      const hooks = await Webhook.find({ organizationId: owner.organizationId }, { _id: 1 }).sort({ slug: 1 }).lean();
      const stormCpu0 = cpuByLabel(stackPart);
      const s0 = performance.now();
      const storm = await runStorm({
        api,
        key: owner.key,
        organizationId: owner.organizationId,
        webhookIds: hooks.map((h) => String(h._id)),
        receipts: receiver.receipts,
        rate: STORM_RATE,
        seconds: numberFlag('storm-seconds', 60),
        freezeStoreSeconds: numberFlag('freeze-store', 0),
      });
      const stormSeconds = (performance.now() - s0) / 1000;
      const stormCpu = cpuDelta(stormCpu0, cpuByLabel(stackPart));
      const figures = serviceFigures(await serviceCounts(api, temporalMetrics), countsBefore);
      console.log(
        [
          '',
          ...storm.report,
          `  service                ${COMPILED ? 'compiled dist/' : 'src/ through tsx'}, ${SEPARATE ? 'API and worker apart' : 'API and worker in one process'}`,
          `  503s by reason         ${figures.refused}`,
          `  runs started eagerly   ${figures.eager}`,
          `  grouped inserts        ${figures.insertGroups || 'none'}`,
          `  visibility rows        ${figures.visibilityRows}`,
          ...cpuReport(stormCpu, Math.max(1, storm.delivered), stormSeconds),
          '',
        ].join('\n'),
      );
      return storm.ok ? 0 : 1;
    }

    // The ceiling: a plain Node loop POSTing the same body to the same receiver.
    const body = JSON.stringify(sampleEvent('incident.triggered'));
    const plainAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const plainN = EVENTS * WEBHOOKS;
    const p0 = performance.now();
    await pool(plainN, CONCURRENCY, async () => {
      await post(plainAgent, `${receiver.url}/plain`, body);
    });
    const plainSeconds = (performance.now() - p0) / 1000;
    plainAgent.destroy();

    // The run: post N events, each delivered to every webhook.
    console.error(`bench: posting ${EVENTS} events to ${WEBHOOKS} webhooks, ${CONCURRENCY} at a time…`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const acceptedAt = new Map<string, number>();
    let rejected = 0;
    let reposts = 0;
    const runId = crypto.randomBytes(3).toString('hex');
    const cpu0 = cpuByLabel(stackPart);
    const a0 = performance.now();
    await pool(EVENTS, CONCURRENCY, async (i) => {
      if (RATE) await new Promise((r) => setTimeout(r, Math.max(0, a0 + (i * 1000) / RATE - performance.now())));
      const event = sampleEvent('incident.triggered');
      event.event.id = `bench-${runId}-${i}`;
      event.data.resource_data.id = `incident-${runId}-${i}`;
      const { res, reposts: repeated } = await postEvent(agent, api, owner.key, event);
      reposts += repeated;
      if (res.status !== 202) {
        rejected++;
        if (rejected <= 3) console.error(`bench: post answered ${res.status}: ${res.body.slice(0, 200)}`);
        return;
      }
      acceptedAt.set(JSON.parse(res.body).data.workflow_id, performance.now());
    });
    const a1 = performance.now();
    agent.destroy();

    const expected = acceptedAt.size * WEBHOOKS;
    let last = receiver.receipts.size;
    let lastProgress = performance.now();
    while (receiver.receipts.size < expected && performance.now() - a0 < DRAIN_TIMEOUT_MS) {
      await new Promise((r) => setTimeout(r, 250));
      if (receiver.receipts.size !== last) {
        last = receiver.receipts.size;
        lastProgress = performance.now();
      } else if (performance.now() - lastProgress > 60_000) break;
    }
    const cpuUsed = cpuDelta(cpu0, cpuByLabel(stackPart));
    // A little longer, to catch late duplicates.
    await new Promise((r) => setTimeout(r, 2000));

    const receipts = [...receiver.receipts.values()];
    const lastReceipt = Math.max(...receipts.map((r) => r.at));
    const duplicates = receipts.reduce((n, r) => n + r.count - 1, 0);
    // webhook-id = msg_ + hash(org, event id, webhook id): recompute it to find each delivery's event.
    const hooks = await Webhook.find({ organizationId: owner.organizationId }, { _id: 1 }).sort({ slug: 1 }).lean();
    const latencies: number[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const eventId = `bench-${runId}-${i}`;
      const workflowId = `event-${owner.organizationId}-${eventId}`;
      const accepted = acceptedAt.get(workflowId);
      if (accepted === undefined) continue;
      hooks.forEach((h, j) => {
        const r = receiver.receipts.get(`${deliveryIdOf(owner.organizationId, eventId, String(h._id))} /hook/${j}`);
        if (r) latencies.push(Math.max(0, r.at - accepted));
      });
    }
    latencies.sort((x, y) => x - y);
    const attempts = await DeliveryLog.find(
      { organizationId: owner.organizationId, eventId: { $regex: `^bench-${runId}-` } },
      { attempt: 1, outcome: 1, error: 1 },
    ).lean();
    const retried = attempts.filter((a) => a.attempt > 1).length;
    const errors = [...new Set(attempts.filter((a) => a.error).map((a) => a.error))].slice(0, 3);
    const acceptSeconds = (a1 - a0) / 1000;
    // Deliveries per 5 s of the run: a dip shows the queue running dry (or a stall).
    const perWindow: number[] = [];
    for (const r of receipts) {
      const w = Math.floor((r.at - a0) / 5000);
      perWindow[w] = (perWindow[w] ?? 0) + 1;
    }
    const refusals = serviceFigures(await serviceCounts(api, temporalMetrics), countsBefore);
    const deliverSeconds = (lastReceipt - a0) / 1000;
    const lost = expected - latencies.length;
    const delivered = Math.max(1, latencies.length);

    console.log(
      [
        '',
        `hookrelay bench: ${EVENTS} events × ${WEBHOOKS} webhooks (1 URL each${template ? `, custom payload '${template.slug}'` : ''}), ${CONCURRENCY} concurrent posts${RATE ? ` paced at ${RATE}/s` : ''}, ${SEPARATE ? 'API and worker apart' : 'API and worker in one process'} (${COMPILED ? 'compiled dist/' : 'src/ through tsx'}), ${os.cpus().length} CPUs${WARM_UP ? `, after ${WARM_UP} warm-up events` : ''}`,
        `  events accepted        ${acceptedAt.size} (${rejected} rejected, ${reposts} posts repeated after a 5xx) in ${fmt(acceptSeconds, 1)} s = ${fmt(acceptedAt.size / acceptSeconds)} events/s`,
        `  deliveries received    ${latencies.length} of ${expected} in ${fmt(deliverSeconds, 1)} s = ${fmt(latencies.length / deliverSeconds)} deliveries/s`,
        `  accept→receipt         p50 ${fmt(percentile(latencies, 50))} ms, p95 ${fmt(percentile(latencies, 95))} ms, p99 ${fmt(percentile(latencies, 99))} ms`,
        `  deliveries per 5 s     ${Array.from(perWindow, (n) => n ?? 0).join(' ')}`,
        `  503s by reason         ${refusals.refused || 'none'}`,
        `  runs started eagerly   ${refusals.eager}`,
        `  grouped inserts        ${refusals.insertGroups || 'none'}`,
        `  visibility rows        ${refusals.visibilityRows}`,
        `  lost deliveries        ${lost}`,
        `  duplicated deliveries  ${duplicates}`,
        `  attempts logged        ${attempts.length} (${retried} retries${errors.length ? `; errors: ${errors.join(' | ')}` : ''})`,
        ...cpuReport(cpuUsed, delivered, deliverSeconds),
        `  plain Node POST loop   ${plainN} requests in ${fmt(plainSeconds, 2)} s = ${fmt(plainN / plainSeconds)} requests/s (the receiver's ceiling)`,
        '',
      ].join('\n'),
    );
    return lost === 0 ? 0 : 1;
  } finally {
    await service.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
