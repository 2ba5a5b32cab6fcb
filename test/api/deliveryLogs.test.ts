import { createApiKey, type CreatedKey } from '../../src/access/keys';
import { startReceiver, type Receiver } from '../support/receiver';
import { createWebhook, deliverEvent, freshEvent } from '../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../support/harness';

describe('GET /v3/extensions/event-webhooks/{id}/logs and /mails', () => {
  // No SMTP_URL: failure mails are kept in the store and read through the API.
  const config = testConfig({ SMTP_URL: '' });
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
});
