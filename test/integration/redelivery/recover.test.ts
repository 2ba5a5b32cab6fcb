import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { DeliveryLog } from '../../../src/db/deliveryLog';
import { recoverWorkflowId } from '../../../src/shared/redelivery';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent, until } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

// Both ways the log is read: the embedded store's PostgreSQL (STORE_POSTGRES_URL, when the stack runs
// on one) and mongoose queries (MongoDB, any store).
const readPaths: [string, string][] = [['mongoose queries', '']];
if (process.env.STORE_POSTGRES_URL) readPaths.unshift(["the store's PostgreSQL", process.env.STORE_POSTGRES_URL]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(readPaths)('POST /v3/extensions/event-webhooks/{id}/recover, log read through %s', (_path, pgUrl) => {
  // A slow pace, so the test can see it held: 2 redeliveries a second.
  const config = testConfig({ SMTP_URL: '', STORE_POSTGRES_URL: pgUrl, RECOVER_DELIVERIES_PER_SECOND: '2' });
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  let stranger: CreatedKey;
  let webhookId: string;
  /** Event ids the receiver refuses (500); everything else is answered 200. */
  const failing = new Set<string>();
  const eventIdOf = (body: string) => JSON.parse(body).event.id as string;
  /** Delivery ids (webhook-id) of the deliveries whose final outcome in the window is `failed`. */
  const failedInWindow: string[] = [];
  let since: string;
  let windowEnd: string;

  const recover = (body: unknown, key = owner.key, id = webhookId) =>
    call(h.api, 'POST', `/v3/extensions/event-webhooks/${id}/recover`, { key, body });
  const progress = (recoverId: string, key = owner.key, id = webhookId) =>
    call(h.api, 'GET', `/v3/extensions/event-webhooks/${id}/recover/${recoverId}`, { key });

  async function deliver(fail: boolean) {
    const event = freshEvent();
    if (fail) failing.add(event.event.id);
    await deliverEvent(h.api, owner.key, h.temporal, event);
    return event.event.id;
  }
  const rowOf = async (eventId: string) => (await DeliveryLog.findOne({ webhookId, eventId }).lean())!;

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver((req) => ({ status: failing.has(eventIdOf(req.body)) ? 500 : 200 }));
    owner = await createApiKey({ org: 'acme', role: 'owner' });
    stranger = await createApiKey({ org: 'globex', role: 'owner' });
    webhookId = (
      await createWebhook(owner.organizationId, {
        urls: [{ url: `${receiver.url}/hook`, method: 'POST' }],
        max_retry: 0,
      })
    ).id;
    // Before the window: failed, not recovered.
    await deliver(true);
    await sleep(50);
    since = new Date().toISOString();
    // In the window: four failed, one delivered, one failed and since redelivered with success.
    for (let i = 0; i < 4; i++) failedInWindow.push((await rowOf(await deliver(true))).deliveryId);
    await deliver(false);
    const healed = await deliver(true);
    failing.delete(healed);
    const res = await call(
      h.api,
      'POST',
      `/v3/extensions/event-webhooks/${webhookId}/logs/${String((await rowOf(healed))._id)}/redeliver`,
      { key: owner.key },
    );
    expect(res.status).toBe(202);
    expect((await h.temporal.workflow.getHandle(res.body.data.workflow_id).result()).status).toBe('delivered');
    await sleep(50);
    windowEnd = new Date().toISOString();
    // After the window: failed, not recovered.
    await deliver(true);
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  test('when a window is recovered, then exactly its failed deliveries are sent again, once, at the configured pace; a second identical request sends nothing more', async () => {
    failing.clear();
    const before = receiver.requests.length;
    const res = await recover({ since, until: windowEnd });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({
      recover_id: expect.stringMatching(/^[0-9a-f]{24}$/),
      duplicate: false,
      since,
      until: windowEnd,
    });
    const { recover_id: recoverId } = res.body.data;

    const done = await until(
      async () => {
        const p = await progress(recoverId);
        return p.body.data?.state === 'completed' && p.body.data;
      },
      30_000,
      'the recover to complete',
    );
    expect(done).toMatchObject({ found: 4, started: 4, skipped: 0, remaining: 0, scanned: true, state: 'completed' });
    const sent = (await receiver.waitForRequests(before + 4)).slice(before);
    expect(sent.map((r) => r.headers['webhook-id']).sort()).toEqual([...failedInWindow].sort());
    // 2 a second: the second batch of starts is scheduled a full second after the first. Read from
    // the recover run's history, not from receipt times, which add each delivery's own latency.
    const history = await h.temporal.workflow
      .getHandle(recoverWorkflowId(owner.organizationId, recoverId))
      .fetchHistory();
    const batchesAt = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startRecoverDeliveries')
      .map((e) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6));
    expect(batchesAt).toHaveLength(2);
    expect(batchesAt[1] - batchesAt[0]).toBeGreaterThanOrEqual(950);

    const again = await recover({ since, until: windowEnd });
    expect(again.status).toBe(202);
    expect(again.body.data).toMatchObject({ recover_id: recoverId, duplicate: true, state: 'completed', started: 4 });
    await sleep(2000);
    expect(receiver.requests.length).toBe(before + 4);

    // Each redelivery is logged under the recover's round, as trigger `recover`.
    const rows = await until(async () => {
      const r = await DeliveryLog.find({ webhookId, trigger: 'recover' }).lean();
      return r.length === 4 && r;
    });
    expect(rows.every((r) => r.round === recoverId && r.outcome === 'delivered')).toBe(true);
    const logs = await call(h.api, 'GET', `/v3/extensions/event-webhooks/${webhookId}/logs?outcome=delivered`, {
      key: owner.key,
    });
    expect(logs.body.data.result.filter((r: any) => r.trigger === 'recover')).toHaveLength(4);

    // A recover of the same window with another `until` is another request: the deliveries are
    // no longer failed, so it finds none.
    const later = await recover({ since, until: new Date().toISOString() });
    expect(later.body.data.duplicate).toBe(false);
    const laterDone = await until(async () => {
      const p = await progress(later.body.data.recover_id);
      return p.body.data?.state === 'completed' && p.body.data;
    });
    // The one failed after the window is in this one.
    expect(laterDone).toMatchObject({ found: 1, started: 1 });
  });

  test('when another organization asks, then the webhook and the recover are unknown (404); a plain user gets 403', async () => {
    const res = await recover({ since, until: windowEnd });
    const recoverId = res.body.data.recover_id;
    expect((await recover({ since, until: windowEnd }, stranger.key)).status).toBe(404);
    expect((await progress(recoverId, stranger.key)).status).toBe(404);
    const theirs = await createWebhook(stranger.organizationId, {
      urls: [{ url: `${receiver.url}/x`, method: 'POST' }],
    });
    expect((await progress(recoverId, stranger.key, theirs.id)).status).toBe(404);
    const mine = await createWebhook(owner.organizationId, { urls: [{ url: `${receiver.url}/y`, method: 'POST' }] });
    expect((await progress(recoverId, owner.key, mine.id)).status).toBe(404);
    expect((await progress('0123456789abcdef01234567')).status).toBe(404);
    const plain = await createApiKey({ org: 'acme', role: 'user' });
    expect((await recover({ since }, plain.key)).status).toBe(403);
    expect((await progress(recoverId, plain.key)).status).toBe(403);
  });

  test('when the window is invalid, then 422 names the field and why', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: [unknown, string, RegExp][] = [
      [{}, 'since', /required/],
      [{ since: 'yesterday' }, 'since', /ISO 8601/],
      [{ since: 12 }, 'since', /ISO 8601/],
      [{ since: '2026-12-01T00:00:00' }, 'since', /time zone/],
      [{ since: iso(now - 60_000), until: 'soon' }, 'until', /ISO 8601/],
      [{ since: iso(now - 60_000), until: iso(now - 120_000) }, 'until', /after since/],
      [{ since: iso(now - 60_000), until: iso(now + 3_600_000) }, 'until', /future/],
      [{ since: iso(now + 60_000) }, 'since', /past/],
      [{ since: iso(now - 31 * 86_400_000) }, 'since', /within the last 30 days/],
    ];
    for (const [body, field, message] of cases) {
      const res = await recover(body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 422]);
      expect(res.body.meta.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
    }
    const unknown = await recover({ since: iso(now - 60_000), from: iso(now) });
    expect(unknown.status).toBe(400);
    expect(unknown.body.meta.errors).toEqual([{ field: 'from', message: 'is not a known field' }]);
  });
});
