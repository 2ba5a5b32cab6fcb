import { Types } from 'mongoose';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { DeliveryLog } from '../../../src/db/deliveryLog';
import { StoredEvent, eventKey } from '../../../src/db/event';
import { Webhook } from '../../../src/db/webhook';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent, until } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

describe('POST /v3/extensions/event-webhooks/{id}/logs/{logId}/redeliver', () => {
  const config = testConfig({ SMTP_URL: '' });
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  let stranger: CreatedKey;
  /** The receiver's answer: 500 until a test says otherwise. */
  let status = 500;

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver(() => ({ status, body: `answered ${status}` }));
    owner = await createApiKey({ org: 'acme', role: 'owner' });
    stranger = await createApiKey({ org: 'globex', role: 'owner' });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });
  beforeEach(() => {
    status = 500;
  });

  const redeliver = (webhookId: string, logId: string, key = owner.key) =>
    call(h.api, 'POST', `/v3/extensions/event-webhooks/${webhookId}/logs/${logId}/redeliver`, { key });

  /** A webhook with one URL, no retries, and one event whose delivery failed: its failed row. */
  async function failedDelivery(path = '/hook') {
    const wh = await createWebhook(owner.organizationId, {
      urls: [{ url: `${receiver.url}${path}`, method: 'POST' }],
      max_retry: 0,
    });
    const event = freshEvent();
    await deliverEvent(h.api, owner.key, h.temporal, event);
    const [row] = await DeliveryLog.find({ webhookId: wh.id }).lean();
    expect(row.outcome).toBe('failed');
    return { wh, event, row, logId: String(row._id) };
  }

  test('when a failed attempt is redelivered, then the receiver gets the same webhook-id, a fresh verified signature and the payload the current config builds', async () => {
    const { wh, event, row, logId } = await failedDelivery();
    const before = receiver.requests.length;
    const original = receiver.requests[before - 1];
    // The config changes after the failure: the redelivery must use the new payload.
    await Webhook.updateOne(
      { _id: wh.id },
      { payload_type: 'custom', custom_payload: `{ text: 'again ' + root.event.id }` },
    );
    status = 200;
    await new Promise((r) => setTimeout(r, 1100)); // a later second: a fresh webhook-timestamp

    const res = await redeliver(wh.id, logId);
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({
      delivery_id: row.deliveryId,
      event_id: event.event.id,
      url: `${receiver.url}/hook`,
      trigger: 'redeliver',
      workflow_id: expect.any(String),
      run_id: expect.any(String),
      round: expect.stringMatching(/^rd_/),
    });
    const result = await h.temporal.workflow.getHandle(res.body.data.workflow_id).result();
    expect(result.status).toBe('delivered');

    const [again] = (await receiver.waitForRequests(before + 1)).slice(before);
    expect(again.headers['webhook-id']).toBe(original.headers['webhook-id']);
    expect(again.headers['webhook-id']).toBe(row.deliveryId);
    expect(Number(again.headers['webhook-timestamp'])).toBeGreaterThan(Number(original.headers['webhook-timestamp']));
    expect(again.headers['webhook-signature']).not.toBe(original.headers['webhook-signature']);
    expect(() =>
      new StandardWebhook(wh.secret).verify(again.body, again.headers as Record<string, string>),
    ).not.toThrow();
    expect(JSON.parse(again.body)).toEqual({ text: `again ${event.event.id}` });
    expect(JSON.parse(original.body).event.id).toBe(event.event.id);

    // The logs show both attempts: the original row untouched, the redelivery's under its own id.
    const logs = await call(h.api, 'GET', `/v3/extensions/event-webhooks/${wh.id}/logs`, { key: owner.key });
    expect(logs.body.data.result.map((r: any) => [r.trigger, r.outcome, r.attempt, r.delivery_id])).toEqual([
      ['redeliver', 'delivered', 1, row.deliveryId],
      ['event', 'failed', 1, row.deliveryId],
    ]);
    const [redelivered, first] = logs.body.data.result;
    expect(first.id).toBe(logId);
    expect(redelivered.id).not.toBe(logId);
    expect(redelivered.round).toBe(res.body.data.round);
    expect(redelivered.workflow_id).toBe(res.body.data.workflow_id);

    // Redelivered again once finished: a third row, a new round.
    const third = await redeliver(wh.id, logId);
    expect(third.status).toBe(202);
    expect(third.body.data.round).not.toBe(res.body.data.round);
    await h.temporal.workflow.getHandle(third.body.data.workflow_id).result();
    expect(await DeliveryLog.countDocuments({ webhookId: wh.id })).toBe(3);
  });

  test('when a redelivery fails, then it is retried with the normal policy and logged as failed, with a failure mail', async () => {
    const { wh, logId } = await failedDelivery();
    await Webhook.updateOne({ _id: wh.id }, { max_retry: 1 });
    const res = await redeliver(wh.id, logId);
    expect(res.status).toBe(202);
    const result = await h.temporal.workflow.getHandle(res.body.data.workflow_id).result();
    expect(result.status).toBe('failed');
    const rows = await DeliveryLog.find({ webhookId: wh.id, trigger: 'redeliver' }).sort({ attempt: 1 }).lean();
    expect(rows.map((r) => [r.attempt, r.maxAttempts, r.outcome])).toEqual([
      [1, 2, 'retrying'],
      [2, 2, 'failed'],
    ]);
  });

  test('when the same redelivery is asked for while it runs, then the second is refused with 409', async () => {
    const { wh, logId } = await failedDelivery('/held');
    const held = receiver.requests.length;
    receiver.setHandler((req) => (req.path === '/held' ? 'hold' : { status, body: `answered ${status}` }));
    try {
      const first = await redeliver(wh.id, logId);
      expect(first.status).toBe(202);
      await receiver.waitForRequests(held + 1);
      const second = await redeliver(wh.id, logId);
      expect(second.status).toBe(409);
      expect(second.body.meta.error_message).toMatch(/already running/);
      receiver.releaseHeld(200);
      expect((await h.temporal.workflow.getHandle(first.body.data.workflow_id).result()).status).toBe('delivered');
    } finally {
      receiver.setHandler(() => ({ status, body: `answered ${status}` }));
      receiver.releaseHeld(200);
    }
  });

  test('when the log row is unknown, or another organization asks, then the answer is 404; a plain user gets 403', async () => {
    const { wh, logId } = await failedDelivery();
    expect((await redeliver(wh.id, String(new Types.ObjectId()))).status).toBe(404);
    expect((await redeliver(wh.id, 'not-an-id')).status).toBe(404);
    // Another organization: neither the webhook nor, through its own webhook, the row.
    expect((await redeliver(wh.id, logId, stranger.key)).status).toBe(404);
    const theirs = await createWebhook(stranger.organizationId, {
      urls: [{ url: `${receiver.url}/x`, method: 'POST' }],
    });
    expect((await redeliver(theirs.id, logId, stranger.key)).status).toBe(404);
    // Another webhook of the same organization does not reach the row either.
    const other = await createWebhook(owner.organizationId, { urls: [{ url: `${receiver.url}/y`, method: 'POST' }] });
    expect((await redeliver(other.id, logId)).status).toBe(404);
    const plain = await createApiKey({ org: 'acme', role: 'user' });
    expect((await redeliver(wh.id, logId, plain.key)).status).toBe(403);
    const manager = await createApiKey({ org: 'acme', role: 'user', permissions: ['manage_webhook'] });
    status = 200;
    const ok = await redeliver(wh.id, logId, manager.key);
    expect(ok.status).toBe(202);
    await h.temporal.workflow.getHandle(ok.body.data.workflow_id).result();
    expect(await DeliveryLog.countDocuments({ webhookId: theirs.id })).toBe(0);
  });

  test('when the URL was removed, the event is no longer stored, the webhook is disabled or the row is a test send, then 422 names why', async () => {
    const { wh, event, logId } = await failedDelivery();

    await Webhook.updateOne({ _id: wh.id }, { urls: [{ url: `${receiver.url}/elsewhere`, method: 'POST' }] });
    const removed = await redeliver(wh.id, logId);
    expect(removed.status).toBe(422);
    expect(removed.body.meta.errors).toEqual([{ field: 'url', message: expect.stringMatching(/no longer/) }]);
    await Webhook.updateOne({ _id: wh.id }, { urls: [{ url: `${receiver.url}/hook`, method: 'POST' }] });

    await Webhook.updateOne({ _id: wh.id }, { enabled: false });
    const disabled = await redeliver(wh.id, logId);
    expect(disabled.status).toBe(422);
    expect(disabled.body.meta.errors[0].field).toBe('id');
    await Webhook.updateOne({ _id: wh.id }, { enabled: true });

    await StoredEvent.deleteOne({ _id: eventKey(owner.organizationId, event.event.id) });
    const gone = await redeliver(wh.id, logId);
    expect(gone.status).toBe(422);
    expect(gone.body.meta.errors).toEqual([{ field: 'event_id', message: expect.stringMatching(/no longer stored/) }]);

    const test = await call(h.api, 'POST', `/v3/extensions/event-webhooks/${wh.id}/test`, { key: owner.key });
    expect(test.status).toBe(200);
    const testRow = await until(() => DeliveryLog.findOne({ webhookId: wh.id, trigger: 'test' }).lean());
    const refused = await redeliver(wh.id, String(testRow._id));
    expect(refused.status).toBe(422);
    expect(refused.body.meta.errors[0].field).toBe('logId');
  });
});
