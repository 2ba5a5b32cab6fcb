import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { closeSharedTemplateEngine } from '../../../src/templates/engine';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent, logsOf } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

describe('custom (Jsonnet) payloads', () => {
  const config = testConfig({ SMTP_URL: '' });
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  let orgs = 0;

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver();
  });
  beforeEach(async () => {
    owner = await createApiKey({ org: `acme-${++orgs}`, role: 'owner' });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
    await closeSharedTemplateEngine();
  });

  const template = `{ text: 'Incident: ' + root.data.resource_data.message, type: root.event.type, org: root.data.organization.id }`;

  test('when a webhook has a custom payload, then the rendered template is the signed body', async () => {
    const wh = await createWebhook(owner.organizationId, {
      payload_type: 'custom',
      custom_payload: template,
      urls: [{ url: `${receiver.url}/custom`, method: 'POST' }],
    });
    const event = freshEvent('incident.triggered');
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, event);
    expect(result.status).toBe('delivered');
    const [r] = receiver.requests.filter((x) => x.path === '/custom');
    expect(JSON.parse(r.body)).toEqual({
      text: 'Incident: test incident',
      type: 'incident.triggered',
      org: owner.organizationId,
    });
    expect(() => new StandardWebhook(wh.secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    expect((await logsOf(wh.id))[0].requestBody).toBe(r.body);
  });

  test('when the template fails at delivery, then no request is made and the failure is logged and mailed', async () => {
    const wh = await createWebhook(owner.organizationId, {
      payload_type: 'custom',
      custom_payload: `{ a: root.data.no_such_field.x }`,
      mail_ids: ['ops@acme.test'],
      urls: [{ url: `${receiver.url}/broken-template`, method: 'POST' }],
    });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent('incident.triggered'));
    expect(result.status).toBe('failed');
    expect(result.deliveries[0].error).toMatch(/^payload could not be built: /);
    expect(receiver.requests.filter((x) => x.path === '/broken-template')).toHaveLength(0);
    const logs = await logsOf(wh.id);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ outcome: 'failed', status: null });
    const mails = await call(h.api, 'GET', `/v3/extensions/event-webhooks/${wh.id}/mails`, { key: owner.key });
    expect(mails.body.data.result).toHaveLength(1);
    expect(mails.body.data.result[0].text).toContain('payload could not be built');
  });

  test('when a custom webhook is tested, then the rendered body is sent; a broken template answers 422', async () => {
    const ok = await createWebhook(owner.organizationId, {
      payload_type: 'custom',
      custom_payload: template,
      urls: [{ url: `${receiver.url}/custom-test`, method: 'POST' }],
    });
    const res = await call(h.api, 'POST', `/v3/extensions/event-webhooks/${ok.id}/test`, { key: owner.key });
    expect(res.status).toBe(200);
    const request = receiver.requests.find((x) => x.headers['webhook-id'] === res.body.data.delivery_id)!;
    expect(JSON.parse(request.body)).toMatchObject({ type: 'incident.triggered' });

    const broken = await createWebhook(owner.organizationId, {
      payload_type: 'custom',
      custom_payload: `{ a: `,
      urls: [{ url: `${receiver.url}/custom-test`, method: 'POST' }],
    });
    const bad = await call(h.api, 'POST', `/v3/extensions/event-webhooks/${broken.id}/test`, { key: owner.key });
    expect(bad.status).toBe(422);
    expect(bad.body.meta.errors[0].field).toBe('custom_payload');
  });
});
