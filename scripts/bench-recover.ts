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
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiKey } from '../src/access/keys';
import { DeliveryLog, attemptLogId, deliveryLogKeys } from '../src/db/deliveryLog';
import { StoredEvent, eventKey } from '../src/db/event';
import { Webhook } from '../src/db/webhook';
import { deliveryIdOf } from '../src/delivery/signing';
import { sampleEvent } from '../src/payloads/samples';
import { numberFlag, startBenchService } from './lib/benchService';

const DELIVERIES = numberFlag('deliveries', 10_000);
const PACE = numberFlag('pace', 20);
const BATCH = 500;
/** On a busy machine a full run can take long: stop waiting after this long (0: no limit). */
const MAX_MS = numberFlag('max-minutes', 0) * 60_000;

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

async function api(base: string, key: string, method: string, p: string, body?: unknown) {
  const res = await fetch(base + p, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown> } };
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const receiver = await startReceiver();
  const service = await startBenchService({
    name: 'bench-recover',
    receiver,
    env: { RECOVER_DELIVERIES_PER_SECOND: String(PACE) },
  });
  const base = service.apiUrl;
  try {
    service.spawnService('service', ['--import', 'tsx', 'src/service/main.ts']);
    await service.waitForApi();

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
    await service.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
