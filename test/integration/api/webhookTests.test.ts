import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { sampleEvent } from '../../../src/payloads/samples';
import { startReceiver, type Receiver } from '../../support/receiver';
import { deliverEvent, freshEvent } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

describe('POST /v3/extensions/event-webhooks/{id}/test and /test', () => {
  const config = testConfig();
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver((req) =>
      req.path === '/broken'
        ? { status: 500, body: 'x'.repeat(10_000) }
        : { status: 200, body: `{"ok":"${req.path}"}` },
    );
    owner = await createApiKey({ org: 'acme', role: 'owner' });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  const config1 = (paths: string[], extra: Record<string, unknown> = {}) => ({
    name: `hook ${Math.random()}`,
    trigger_type: 'automatic',
    version: 'v2',
    triggers: [
      { event_class: 'incident', event_type: 'incident.acknowledged' },
      { event_class: 'incident', event_type: 'incident.resolved' },
    ],
    urls: paths.map((p) => ({ url: `${receiver.url}${p}`, method: 'POST' })),
    header: { 'X-Api-Key': 'k-123' },
    max_retry: 5,
    ...extra,
  });

  test('when a saved webhook is tested, then each URL gets one request with the first trigger’s sample and the answers come back', async () => {
    const created = await call(h.api, 'POST', '/v3/extensions/event-webhooks', {
      key: owner.key,
      body: config1(['/ok', '/broken']),
    });
    expect(created.status).toBe(201);
    const { id, secret } = created.body.data;
    const res = await call(h.api, 'POST', `/v3/extensions/event-webhooks/${id}/test`, { key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body.data.event_type).toBe('incident.acknowledged');
    const byUrl = Object.fromEntries(res.body.data.results.map((r: any) => [r.url.slice(receiver.url.length), r]));
    expect(byUrl['/ok']).toMatchObject({
      outcome: 'delivered',
      status: 200,
      error: null,
      response_body: '{"ok":"/ok"}',
    });
    expect(byUrl['/broken']).toMatchObject({ outcome: 'failed', status: 500, error: 'HTTP 500' });
    expect(byUrl['/broken'].response_body).toHaveLength(4096);
    expect(byUrl['/ok'].duration_ms).toEqual(expect.any(Number));

    // One attempt per URL, no retries, even with max_retry 5.
    await new Promise((r) => setTimeout(r, 500));
    const requests = receiver.requests.filter((r) => r.headers['webhook-id'] === res.body.data.delivery_id);
    expect(requests.map((r) => r.path).sort()).toEqual(['/broken', '/ok']);
    const expected = sampleEvent('incident.acknowledged');
    expected.data.organization = { id: owner.organizationId, name: 'acme' };
    for (const r of requests) {
      expect(r.body).toBe(JSON.stringify(expected));
      expect(r.headers['x-api-key']).toBe('k-123');
      expect(() => new StandardWebhook(secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    }

    const logs = await call(h.api, 'GET', `/v3/extensions/event-webhooks/${id}/logs?test=true`, { key: owner.key });
    expect(logs.body.data.meta.total_count).toBe(2);
    for (const row of logs.body.data.result) {
      expect(row).toMatchObject({ test: true, trigger: 'test', attempt: 1, max_attempts: 1 });
      expect(row.request.headers['X-Api-Key']).toBe('********');
    }
  });

  test('when a real event of the first trigger type was seen, then the test sends the last one', async () => {
    const created = await call(h.api, 'POST', '/v3/extensions/event-webhooks', {
      key: owner.key,
      body: config1(['/real'], { enabled: false }),
    });
    const real = freshEvent('incident.acknowledged');
    (real.data.resource_data as any).message = 'a real incident';
    await deliverEvent(h.api, owner.key, h.temporal, real);
    const res = await call(h.api, 'POST', `/v3/extensions/event-webhooks/${created.body.data.id}/test`, {
      key: owner.key,
    });
    expect(res.body.data.event_id).toBe(real.event.id);
    const request = receiver.requests.find((r) => r.headers['webhook-id'] === res.body.data.delivery_id)!;
    expect(JSON.parse(request.body).data.resource_data.message).toBe('a real incident');
  });

  test('when a v1 webhook is tested, then the v1 payload of its first trigger is sent', async () => {
    const created = await call(h.api, 'POST', '/v3/extensions/event-webhooks', {
      key: owner.key,
      body: config1(['/v1'], {
        version: 'v1',
        triggers: [{ event_class: 'incident', event_type: 'incident_resolved' }],
      }),
    });
    expect(created.status).toBe(201);
    const res = await call(h.api, 'POST', `/v3/extensions/event-webhooks/${created.body.data.id}/test`, {
      key: owner.key,
    });
    expect(res.body.data.results[0].status).toBe(200);
    const request = receiver.requests.find((r) => r.headers['webhook-id'] === res.body.data.delivery_id)!;
    expect(JSON.parse(request.body)).toMatchObject({ event_type: 'incident_resolved', status: 'resolved' });
  });

  test('when an unsaved config is tested, then it is checked like a save and sent once per URL', async () => {
    const res = await call(h.api, 'POST', '/v3/extensions/event-webhooks/test', {
      key: owner.key,
      body: config1(['/unsaved']),
    });
    expect(res.status).toBe(200);
    expect(res.body.data.results).toEqual([expect.objectContaining({ status: 200, outcome: 'delivered' })]);
    const request = receiver.requests.find((r) => r.headers['webhook-id'] === res.body.data.delivery_id)!;
    expect(request.path).toBe('/unsaved');
    expect(request.headers['webhook-signature']).toMatch(/^v1,/);

    const bad = await call(h.api, 'POST', '/v3/extensions/event-webhooks/test', {
      key: owner.key,
      body: { ...config1(['/unsaved']), urls: [] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.meta.errors[0].field).toBe('urls');
    const unknownEvent = await call(h.api, 'POST', '/v3/extensions/event-webhooks/test', {
      key: owner.key,
      body: config1(['/unsaved'], { triggers: [{ event_class: 'incident', event_type: 'incident.exploded' }] }),
    });
    expect(unknownEvent.status).toBe(422);
  });

  test('when a plain user or another organization tests, then 403 or 404', async () => {
    const created = await call(h.api, 'POST', '/v3/extensions/event-webhooks', {
      key: owner.key,
      body: config1(['/x']),
    });
    const plain = await createApiKey({ org: 'acme', role: 'user' });
    const stranger = await createApiKey({ org: 'globex', role: 'owner' });
    const path = `/v3/extensions/event-webhooks/${created.body.data.id}/test`;
    expect((await call(h.api, 'POST', path, { key: plain.key })).status).toBe(403);
    expect((await call(h.api, 'POST', path, { key: stranger.key })).status).toBe(404);
    expect((await call(h.api, 'POST', '/v3/extensions/event-webhooks/test', { key: plain.key, body: {} })).status).toBe(
      403,
    );
  });
});
