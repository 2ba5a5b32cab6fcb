import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { AttemptInFlight, DeliveryLog, attemptLogId } from '../../../src/db/deliveryLog';
import { Webhook } from '../../../src/db/webhook';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent, postEvent, until } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

// Both ways the page is read: the embedded store's PostgreSQL (STORE_POSTGRES_URL, when the stack runs
// on one) and mongoose queries (MongoDB, any store).
const readPaths: [string, string][] = [['mongoose queries', '']];
if (process.env.STORE_POSTGRES_URL) readPaths.unshift(["the store's PostgreSQL", process.env.STORE_POSTGRES_URL]);

describe.each(readPaths)('GET /v3/extensions/event-webhooks/{id}/logs and /mails, read through %s', (_path, pgUrl) => {
  // No SMTP_URL: failure mails are kept in the store and read through the API. A long delivery
  // timeout: a receiver holds a request open while the test reads the attempt in flight.
  const config = testConfig({ SMTP_URL: '', DELIVERY_TIMEOUT_MS: '30000', STORE_POSTGRES_URL: pgUrl });
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  let webhookId: string;
  let slug: string;
  const started = new Date();

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver((req) => ({
      status: req.path === '/bad' ? 500 : 200,
      body: `answer from ${req.path}`,
    }));
    owner = await createApiKey({ org: 'acme', role: 'owner' });
    const wh = await createWebhook(owner.organizationId, {
      triggers: [
        { event_class: 'incident', event_type: 'incident.triggered' },
        { event_class: 'incident', event_type: 'incident.resolved' },
      ],
      urls: [
        { url: `${receiver.url}/good`, method: 'POST' },
        { url: `${receiver.url}/bad`, method: 'POST' },
      ],
      max_retry: 1,
      mail_ids: ['ops@acme.test'],
    });
    webhookId = wh.id;
    slug = wh.doc.slug;
    await deliverEvent(h.api, owner.key, h.temporal, freshEvent('incident.triggered'));
    await deliverEvent(h.api, owner.key, h.temporal, freshEvent('incident.resolved'));
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  const logs = (query = '', key = owner.key, id = webhookId) =>
    call(h.api, 'GET', `/v3/extensions/event-webhooks/${id}/logs${query}`, { key });

  test('when a manager reads the logs, then every attempt is listed newest first with its request and response', async () => {
    const res = await logs();
    expect(res.status).toBe(200);
    // 2 events × (good: 1 attempt, bad: 2 attempts)
    expect(res.body.data.meta.total_count).toBe(6);
    const rows = res.body.data.result;
    const times = rows.map((r: any) => Date.parse(r.timestamp));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(rows[0].event_type).toBe('incident.resolved');
    const good = rows.find((r: any) => r.url.endsWith('/good'));
    expect(good).toMatchObject({
      webhook_id: webhookId,
      method: 'POST',
      attempt: 1,
      max_attempts: 2,
      outcome: 'delivered',
      status: 200,
      error: null,
      response: { body: 'answer from /good' },
      test: false,
      trigger: 'event',
    });
    expect(good.duration_ms).toEqual(expect.any(Number));
    expect(good.request.headers['webhook-signature']).toBe('v1,********');
    expect(JSON.parse(good.request.body).event.type).toBe(good.event_type);
  });

  test('when filters are given, then only matching rows are listed and paging applies', async () => {
    expect((await logs('?outcome=failed')).body.data.result.map((r: any) => r.url)).toEqual([
      `${receiver.url}/bad`,
      `${receiver.url}/bad`,
    ]);
    expect((await logs('?outcome=retrying')).body.data.meta.total_count).toBe(2);
    expect((await logs('?event_type=incident.triggered')).body.data.meta.total_count).toBe(3);
    expect((await logs(`?url=${encodeURIComponent(`${receiver.url}/good`)}`)).body.data.meta.total_count).toBe(2);
    expect((await logs(`?from=${encodeURIComponent(started.toISOString())}`)).body.data.meta.total_count).toBe(6);
    expect((await logs(`?to=${encodeURIComponent(started.toISOString())}`)).body.data.meta.total_count).toBe(0);
    const all = (await logs()).body.data.result.map((r: any) => r.id);
    const page = await logs('?page-limit=2&offset=2');
    expect(page.body.data.result.map((r: any) => r.id)).toEqual(all.slice(2, 4));
    expect(page.body.data.meta).toMatchObject({ total_count: 6, limit: 2, offset: 2 });
    expect((await logs('?page-limit=1')).body.data.result).toHaveLength(1);
    expect((await logs('?page-limit=0')).status).toBe(400);
    expect((await logs('?offset=-1')).status).toBe(400);
    const bad = await logs('?outcome=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.meta.errors[0].field).toBe('outcome');
    // A NUL in a text filter, which PostgreSQL (the embedded store's) cannot hold: 400 naming the
    // field, not a failed read (found by the fuzzer: 500).
    for (const field of ['url', 'event_type']) {
      const nul = await logs(`?${field}=a%00b`);
      expect(nul.status).toBe(400);
      expect(nul.body.meta.errors[0].field).toBe(field);
    }
  });

  test('when the webhook is named by its slug, then the same logs are listed', async () => {
    expect((await logs('', owner.key, slug)).body.data.meta.total_count).toBe(6);
  });

  test('when another organization or a plain user asks, then the answer is 404 or 403', async () => {
    const stranger = await createApiKey({ org: 'globex', role: 'owner' });
    expect((await logs('', stranger.key)).status).toBe(404);
    const plain = await createApiKey({ org: 'acme', role: 'user' });
    expect((await logs('', plain.key)).status).toBe(403);
    const manager = await createApiKey({ org: 'acme', role: 'user', permissions: ['manage_webhook'] });
    expect((await logs('', manager.key)).status).toBe(200);
  });

  test('when no SMTP server is configured, then the failure mail is stored and readable, one per window', async () => {
    const res = await call(h.api, 'GET', `/v3/extensions/event-webhooks/${webhookId}/mails`, { key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body.data.meta.total_count).toBe(1);
    const [mail] = res.body.data.result;
    expect(mail).toMatchObject({ url: `${receiver.url}/bad`, to: ['ops@acme.test'], status: 'stored' });
    expect(mail.text).toContain('Attempts:   2');
    expect(mail.text).toContain('Last error: HTTP 500');
  });

  test('when a receiver holds a request open, then the attempt is listed in_progress, and once answered only as its finished row', async () => {
    const holder = await startReceiver();
    try {
      const wh = await createWebhook(owner.organizationId, {
        urls: [{ url: `${holder.url}/hook`, method: 'POST' }],
        max_retry: 0,
      });
      const whLogs = (query = '') => logs(query, owner.key, wh.id);
      await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
      holder.setHandler(() => 'hold');
      const posted = await postEvent(h.api, owner.key, freshEvent());
      expect(posted.status).toBe(202);
      await holder.waitForRequests(2);

      // A first attempt is marked in flight once it has run for a second (fast ones never are).
      const during = await until(async () => {
        const res = await whLogs();
        return res.body.data?.meta.total_count === 2 && res;
      }, 10_000);
      expect(during.status).toBe(200);
      expect(during.body.data.meta.total_count).toBe(2);
      const [inFlight, finished] = during.body.data.result;
      expect(inFlight).toMatchObject({
        webhook_id: wh.id,
        event_id: posted.body.data.event_id,
        url: `${holder.url}/hook`,
        attempt: 1,
        max_attempts: 1,
        outcome: 'in_progress',
        status: null,
        error: null,
        duration_ms: null,
        response: null,
        trigger: 'event',
        test: false,
      });
      expect(inFlight.request.headers['webhook-signature']).toBe('v1,********');
      expect(finished.outcome).toBe('delivered');
      // Filters and paging apply to attempts in flight like to finished ones.
      expect((await whLogs('?outcome=in_progress')).body.data.result.map((r: any) => r.id)).toEqual([inFlight.id]);
      expect((await whLogs('?outcome=delivered')).body.data.result.map((r: any) => r.id)).toEqual([finished.id]);
      expect((await whLogs('?test=true')).body.data.meta.total_count).toBe(0);
      expect((await whLogs('?test=false')).body.data.meta.total_count).toBe(2);
      expect((await whLogs('?url=http%3A%2F%2Felsewhere.test%2F')).body.data.meta.total_count).toBe(0);
      const second = await whLogs('?page-limit=1&offset=1');
      expect(second.body.data.result.map((r: any) => r.id)).toEqual([finished.id]);
      expect(second.body.data.meta).toMatchObject({ total_count: 2, limit: 1, offset: 1 });
      expect((await logs('', (await createApiKey({ org: 'globex', role: 'owner' })).key, wh.id)).status).toBe(404);

      holder.releaseHeld(200);
      await h.temporal.workflow.getHandle(posted.body.data.workflow_id).result();
      const after = await whLogs();
      expect(after.body.data.meta.total_count).toBe(2);
      // The finished row keeps the id the attempt had in flight.
      expect(after.body.data.result.map((r: any) => [r.id, r.outcome])).toEqual([
        [inFlight.id, 'delivered'],
        [finished.id, 'delivered'],
      ]);
    } finally {
      await holder.close();
    }
  });

  /** A first attempt of delivery `n` to webhookId's receiver, as log rows and in-flight marks record it. */
  const attemptOf = (webhookId: string, n: number, timestamp: Date, organizationId = owner.organizationId) => ({
    organizationId,
    webhookId,
    deliveryId: `msg_${webhookId}_${n}`,
    eventId: `evt-${n}`,
    eventType: 'incident.triggered',
    url: 'https://receiver.test/hook',
    method: 'POST',
    attempt: 1,
    maxAttempts: 4,
    trigger: 'event',
    timestamp,
  });
  const markOf = (a: ReturnType<typeof attemptOf>) => ({ _id: `${a.deliveryId}\n${a.url}\n${a.attempt}`, ...a });

  test('when finished rows and marks interleave, then every page is the matching slice of one newest-first list, without marks already logged or of other organizations', async () => {
    const wh = await createWebhook(owner.organizationId);
    // Recent enough that the marks count as running (within an attempt's deadline), and no later
    // than now: the logs are read from the current hour backwards.
    const t0 = Date.now() - 20_000;
    // No row is read from before the webhook existed: made just now, it would hide the rows below
    // whenever an hour began in the last 20 s (the walk stops at the hour of its creation).
    await Webhook.updateOne({ _id: wh.id }, { $set: { created_at: new Date(t0 - 60_000) } }, { timestamps: false });
    const attempt = (n: number, at: number, organizationId = owner.organizationId) =>
      attemptOf(wh.id, n, new Date(t0 + at), organizationId);
    const rowOf = (a: ReturnType<typeof attempt>) => ({
      _id: attemptLogId(a.deliveryId, a.url, a.attempt),
      ...a,
      outcome: 'delivered',
      status: 200,
    });
    // Seconds apart: rows at 0, 2, 4, 6, 8, 10; marks at 1, 5, 10 (a tie with a row) and 11.
    const rows = [0, 2, 4, 6, 8, 10].map((s, i) => attempt(i, s * 1000));
    const marks = [1, 5, 10, 11].map((s, i) => attempt(100 + i, s * 1000));
    // A mark left behind whose attempt was logged since, and one of another organization.
    const stale = rows[3];
    const foreign = attempt(200, 3000, 'some-other-org');
    await DeliveryLog.insertMany(rows.map(rowOf));
    await AttemptInFlight.insertMany([...marks, stale, foreign].map(markOf));

    const whLogs = (query: string) => logs(query, owner.key, wh.id);
    const all = (await whLogs('?page-limit=200')).body.data;
    expect(all.meta.total_count).toBe(10);
    const ids = all.result.map((r: any) => r.id);
    expect(new Set(ids)).toEqual(new Set([...rows, ...marks].map((a) => String(rowOf(a)._id))));
    const times = all.result.map((r: any) => Date.parse(r.timestamp));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(all.result.filter((r: any) => r.outcome === 'in_progress')).toHaveLength(4);
    for (const limit of [1, 3, 4]) {
      for (let offset = 0; offset <= 11; offset++) {
        const page = await whLogs(`?page-limit=${limit}&offset=${offset}`);
        expect(page.body.data.result.map((r: any) => r.id)).toEqual(ids.slice(offset, offset + limit));
        expect(page.body.data.meta.total_count).toBe(10);
      }
    }
    const from = encodeURIComponent(new Date(t0 + 5000).toISOString());
    expect((await whLogs(`?from=${from}`)).body.data.meta.total_count).toBe(6);
    expect((await whLogs(`?outcome=in_progress&to=${from}`)).body.data.meta.total_count).toBe(2);
  });

  test('when a mark is older than an attempt can run, then it is not listed as in progress (its process died)', async () => {
    const wh = await createWebhook(owner.organizationId);
    const mark = (n: number, ageMs: number) => markOf(attemptOf(wh.id, n, new Date(Date.now() - ageMs)));
    await AttemptInFlight.insertMany([mark(1, 1000), mark(2, 60 * 60 * 1000)]);
    const listed = (await logs('?outcome=in_progress', owner.key, wh.id)).body.data;
    expect(listed.result.map((r: any) => r.delivery_id)).toEqual([`msg_${wh.id}_1`]);
    expect(listed.meta.total_count).toBe(1);
  });
});
