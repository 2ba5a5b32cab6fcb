/**
 * `npm run bench:recover`: a benchmark, not a test. Starts its own stack (Temporal dev server and
 * store on free ports, a throw-away data folder), the API and a worker in one child process, and a
 * receiver on 127.0.0.1 that answers 200; seeds N failed deliveries of one webhook (stored events and
 * their `failed` log rows, through the project's models), recovers them through the API, and prints
 * the time taken, the pace, and lost and duplicated deliveries (by `webhook-id`). Then repeats the
 * same request and checks that nothing more is sent. Stops everything by itself.
 *
 *   npm run bench:recover -- [--deliveries 10000] [--pace 20]   (pace: RECOVER_DELIVERIES_PER_SECOND)
 *                            [--max-minutes M]  (stop waiting after M minutes and report what arrived)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeWorkflowBundle } from '../src/worker/bundle';
import { createApiKey } from '../src/access/keys';
import { connectDatabase, disconnectDatabase } from '../src/db/connect';
import { DeliveryLog, attemptLogId, deliveryLogKeys } from '../src/db/deliveryLog';
import { StoredEvent, eventKey } from '../src/db/event';
import { Webhook } from '../src/db/webhook';
import { deliveryIdOf } from '../src/delivery/signing';
import { sampleEvent } from '../src/payloads/samples';
import { stopChildProcess } from '../src/process';
import { freePort, freePorts, startStack } from '../src/stack';
import { waitForTemporal } from '../src/temporal/client';

const root = path.resolve(__dirname, '..');

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const DELIVERIES = flag('deliveries', 10_000);
const PACE = flag('pace', 20);
const BATCH = 500;
/** On a busy machine a full run can take long: stop waiting after this long (0: no limit). */
const MAX_MS = flag('max-minutes', 0) * 60_000;

/** Counts receipts by webhook-id. */
async function startReceiver() {
  const receipts = new Map<string, number>();
  let first = 0;
  let last = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      receipts.set(id, (receipts.get(id) ?? 0) + 1);
      last = performance.now();
      first ||= last;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    receipts,
    total: () => [...receipts.values()].reduce((a, b) => a + b, 0),
    times: () => ({ first, last }),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready`);
}

async function api(base: string, key: string, method: string, p: string, body?: unknown) {
  const res = await fetch(base + p, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown> } };
}

async function main(): Promise<number> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-bench-recover-'));
  const children: ChildProcess[] = [];
  const t0 = Date.now();
  console.error(`bench:recover: starting a stack in ${dataDir}…`);
  const [temporalPort, uiPort, storePort] = await freePorts(3);
  const stack = await startStack({
    dataDir,
    temporal: { port: temporalPort, uiPort },
    store: { port: storePort, database: 'bench' },
  });
  const receiver = await startReceiver();
  const stopAll = async () => {
    await Promise.all(children.map((c) => stopChildProcess(c, 10_000)));
    await disconnectDatabase().catch(() => undefined);
    await receiver.close();
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    await waitForTemporal(stack.temporalAddress!);
    const bundlePath = await writeWorkflowBundle(dataDir);
    const apiPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      MONGODB_URI: stack.mongoUri,
      STORE_POSTGRES_URL: stack.storePostgresUrl,
      TEMPORAL_TASK_QUEUE: 'bench',
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      ALLOW_PRIVATE_TARGETS: 'true',
      SMTP_URL: '',
      LOG_LEVEL: 'warn',
      RECOVER_DELIVERIES_PER_SECOND: String(PACE),
      HOOKRELAY_WORKFLOW_BUNDLE: bundlePath,
      HOOKRELAY_PARENT_PID: String(process.pid),
    };
    await connectDatabase(stack.mongoUri!, stack.storePostgresUrl);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/service/main.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.includes('"level":"error"') || line.startsWith('Error')) console.error(`[service] ${line}`);
      }
    });
    children.push(child);
    const base = `http://127.0.0.1:${apiPort}`;
    await waitFor('the API', async () => (await fetch(`${base}/readyz`)).status === 200);

    // One webhook whose URL failed for an hour and answers again now.
    const owner = await createApiKey({ org: 'bench', role: 'owner' });
    const organizationId = owner.organizationId;
    const url = `${receiver.url}/hook`;
    const webhook = await Webhook.create({
      organizationId,
      slug: 'bench-recover',
      name: 'bench recover',
      trigger_type: 'automatic',
      version: 'v2',
      triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
      urls: [{ url, method: 'POST' }],
      max_retry: 0,
      secrets: [
        { value: `whsec_${crypto.randomBytes(32).toString('base64')}`, createdAt: new Date(), expiresAt: null },
      ],
      author_id: owner.userId,
    });
    const webhookId = String(webhook._id);
    const seededFrom = new Date(Date.now() - 60 * 60 * 1000);
    const expected = new Set<string>();
    const s0 = performance.now();
    for (let from = 0; from < DELIVERIES; from += BATCH) {
      const events = [];
      const rows = [];
      for (let n = from; n < Math.min(DELIVERIES, from + BATCH); n++) {
        const event = sampleEvent('incident.triggered');
        event.event.id = `recover-bench-${n}`;
        event.data.organization = { id: organizationId, name: 'bench' };
        const at = new Date(seededFrom.getTime() + Math.floor((n * 3_500_000) / DELIVERIES));
        const deliveryId = deliveryIdOf(organizationId, event.event.id, webhookId);
        expected.add(deliveryId);
        const body = JSON.stringify(event);
        events.push({
          _id: eventKey(organizationId, event.event.id),
          organizationId,
          eventId: event.event.id,
          eventType: event.event.type,
          incidentId: null,
          eventAt: at,
          body,
          workflowId: `seeded-${n}`,
          runId: `seeded-${n}`,
          receivedAt: at,
        });
        rows.push({
          _id: attemptLogId(deliveryId, url, 1),
          organizationId,
          webhookId,
          deliveryId,
          eventId: event.event.id,
          eventType: event.event.type,
          url,
          method: 'POST',
          attempt: 1,
          maxAttempts: 1,
          requestHeaders: [],
          requestBody: body,
          workflowId: `seeded-${n}`,
          timestamp: at,
          outcome: 'failed',
          status: 503,
          error: 'HTTP 503',
          durationMs: 3,
          responseBody: 'down',
          trigger: 'event',
          test: false,
          ...deliveryLogKeys(webhookId, at),
        });
      }
      await StoredEvent.insertMany(events);
      await DeliveryLog.insertMany(rows);
    }
    console.error(
      `bench:recover: stack ready and ${DELIVERIES} failed deliveries seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s ` +
        `(seeding ${((performance.now() - s0) / 1000).toFixed(1)} s); recovering at ${PACE}/s…`,
    );

    const window = { since: new Date(seededFrom.getTime() - 1000).toISOString(), until: new Date().toISOString() };
    const r0 = performance.now();
    const started = await api(base, owner.key, 'POST', `/v3/extensions/event-webhooks/${webhookId}/recover`, window);
    if (started.status !== 202) throw new Error(`recover answered ${started.status}: ${JSON.stringify(started.body)}`);
    const recoverId = String(started.body.data?.recover_id);
    let progress = started.body.data;
    let lastReport = 0;
    let allStartedAt = 0;
    const deadline = MAX_MS ? r0 + MAX_MS : performance.now() + (DELIVERIES / PACE) * 3000 + 300_000;
    let lastCount = -1;
    let lastMove = performance.now();
    while (performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      progress = (await api(base, owner.key, 'GET', `/v3/extensions/event-webhooks/${webhookId}/recover/${recoverId}`))
        .body.data;
      if (!allStartedAt && progress?.state === 'completed') allStartedAt = performance.now();
      if (performance.now() - lastReport > 30_000) {
        lastReport = performance.now();
        console.error(
          `bench:recover: ${((performance.now() - r0) / 1000).toFixed(0)} s: ${JSON.stringify(progress)}; received ${receiver.receipts.size}`,
        );
      }
      const received = receiver.receipts.size;
      if (received !== lastCount) {
        lastCount = received;
        lastMove = performance.now();
      }
      if (allStartedAt && received >= expected.size) break;
      if (performance.now() - lastMove > 120_000) break;
    }
    const cutOff = receiver.receipts.size < expected.size && performance.now() >= deadline;
    const { first, last } = receiver.times();
    // A little longer, to catch late duplicates.
    await new Promise((r) => setTimeout(r, 3000));
    const beforeRepeat = receiver.total();
    const repeat = await api(base, owner.key, 'POST', `/v3/extensions/event-webhooks/${webhookId}/recover`, window);
    await new Promise((r) => setTimeout(r, 10_000));
    const sentByRepeat = receiver.total() - beforeRepeat;

    const lost = [...expected].filter((id) => !receiver.receipts.has(id)).length;
    const unexpected = [...receiver.receipts.keys()].filter((id) => !expected.has(id)).length;
    const duplicated = [...receiver.receipts.values()].reduce((n, c) => n + (c - 1), 0);
    const seconds = (last - r0) / 1000;
    const report = [
      '',
      `recover of ${DELIVERIES} failed deliveries at RECOVER_DELIVERIES_PER_SECOND=${PACE}:`,
      `  progress        ${JSON.stringify(progress)}`,
      `  time taken      ${seconds.toFixed(1)} s from the request to the last receipt ` +
        `(all started after ${((allStartedAt - r0) / 1000).toFixed(1)} s; first receipt after ${((first - r0) / 1000).toFixed(2)} s)`,
      `  pace            ${(receiver.receipts.size / ((last - first) / 1000)).toFixed(1)} deliveries/s between first and last receipt ` +
        `(${(receiver.receipts.size / seconds).toFixed(1)}/s overall)`,
      cutOff
        ? `  not received    ${lost} (stopped waiting after ${((performance.now() - r0) / 60_000).toFixed(0)} min: not counted as lost)`
        : `  lost            ${lost}`,
      `  duplicated      ${duplicated}` + (unexpected ? ` (and ${unexpected} unexpected webhook-ids)` : ''),
      cutOff
        ? `  repeat request  ${repeat.status}, duplicate: ${repeat.body.data?.duplicate} (the first run still going)`
        : `  repeat request  ${repeat.status}, duplicate: ${repeat.body.data?.duplicate}; sent ${sentByRepeat} more`,
      '',
    ];
    console.log(report.join('\n'));
    return (cutOff || (lost === 0 && sentByRepeat === 0)) && duplicated === 0 && unexpected === 0 ? 0 : 1;
  } finally {
    await stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
