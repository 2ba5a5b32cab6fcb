import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { Webhook } from '../../../src/db/webhook';
import { urlTargetOf } from '../../../src/delivery/target';
import { startReceiver, type Receiver } from '../../support/receiver';
import { startSmtp, type SmtpCatcher } from '../../support/smtp';
import { createWebhook, deliverEvent, freshEvent, logsOf } from '../../support/deliveries';
import { startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

// Retry delays from configuration in milliseconds (first retry after 100 ms, ×2), never mocked time.
describe('eventDeliveryWorkflow: retries, cancellation and failure mail', () => {
  let smtp: SmtpCatcher;
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  const handlers = new Map<string, (n: number) => { status: number; headers?: Record<string, string> } | 'hold'>();

  beforeAll(async () => {
    smtp = await startSmtp();
    const config = testConfig({
      SMTP_URL: smtp.url,
      RETRY_INITIAL_INTERVAL_MS: '100',
      RETRY_BACKOFF_COEFFICIENT: '2',
      RETRY_AFTER_CAP_MS: '1500',
      DELIVERY_TIMEOUT_MS: '1000',
    });
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver((req) => {
      const n = receiver.requests.filter((r) => r.path === req.path).length - 1;
      return handlers.get(req.path)?.(n) ?? { status: 200 };
    });
  });
  // Each test has its own organization, so only its own webhooks match its events.
  let orgs = 0;
  beforeEach(async () => {
    owner = await createApiKey({ org: `acme-${++orgs}`, role: 'owner' });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await smtp?.close();
    await h?.close();
  });

  const hits = (path: string) => receiver.requests.filter((r) => r.path === path);

  async function hook(path: string, fields: Record<string, unknown> = {}) {
    return createWebhook(owner.organizationId, {
      urls: [{ url: `${receiver.url}${path}`, method: 'POST' }],
      ...fields,
    });
  }

  test('when the receiver answers 500, 500, 200, then the 3rd request delivers and 3 attempts are logged', async () => {
    handlers.set('/flaky', (n) => ({ status: n < 2 ? 500 : 200 }));
    const wh = await hook('/flaky');
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('delivered');
    const requests = hits('/flaky');
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of requests) {
      expect(() => new StandardWebhook(wh.secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    }
    const logs = await logsOf(wh.id);
    expect(logs.map((l) => [l.attempt, l.maxAttempts, l.outcome, l.status])).toEqual([
      [1, 4, 'retrying', 500],
      [2, 4, 'retrying', 500],
      [3, 4, 'delivered', 200],
    ]);
    expect(logs[0].error).toBe('HTTP 500');
    expect(smtp.mails).toHaveLength(0);
  });

  test('when the receiver always answers 500 with max_retry 2, then exactly 3 requests are made and exactly one mail is sent', async () => {
    handlers.set('/down', () => ({ status: 500 }));
    const wh = await hook('/down', { max_retry: 2, mail_ids: ['ops@acme.test', 'dev@acme.test'] });
    const event = freshEvent();
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, event);
    expect(result).toEqual({
      status: 'failed',
      deliveries: [
        { webhookId: wh.id, target: urlTargetOf(`${receiver.url}/down`, 'POST'), outcome: 'failed', error: 'HTTP 500' },
      ],
    });
    expect(hits('/down')).toHaveLength(3);
    const logs = await logsOf(wh.id);
    expect(logs.map((l) => l.outcome)).toEqual(['retrying', 'retrying', 'failed']);

    const [mail] = await smtp.waitForMails(1);
    expect(mail.to.sort()).toEqual(['dev@acme.test', 'ops@acme.test']);
    expect(mail.subject).toContain(wh.doc.name);
    expect(mail.text).toContain(`${receiver.url}/down`);
    expect(mail.text).toContain(event.event.id);
    expect(mail.text).toContain('Attempts:   3');
    expect(mail.text).toContain('Last error: HTTP 500');

    // A second failure of the same webhook and URL inside the window sends no second mail.
    await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(hits('/down')).toHaveLength(6);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.mails.filter((m) => m.subject.includes(wh.doc.name))).toHaveLength(1);
  });

  test('when max_retry is 0, then exactly one request is made', async () => {
    handlers.set('/once', () => ({ status: 502 }));
    const wh = await hook('/once', { max_retry: 0 });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('failed');
    expect(hits('/once')).toHaveLength(1);
    expect((await logsOf(wh.id)).map((l) => [l.attempt, l.maxAttempts, l.outcome])).toEqual([[1, 1, 'failed']]);
  });

  test('when a 429 carries Retry-After, then the next attempt waits for it', async () => {
    handlers.set('/slow-down', (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    await hook('/slow-down');
    await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    const [first, second] = hits('/slow-down');
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
  });

  test('when a 503 asks for an hour, then the wait is capped by RETRY_AFTER_CAP_MS', async () => {
    handlers.set('/maintenance', (n) =>
      n === 0 ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 200 },
    );
    await hook('/maintenance');
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('delivered');
    const [first, second] = hits('/maintenance');
    expect(second.at - first.at).toBeGreaterThanOrEqual(1450);
    expect(second.at - first.at).toBeLessThan(10_000);
  });

  test('when the receiver does not answer in time, then the attempt fails as a timeout and is retried', async () => {
    handlers.set('/hangs', (n) => (n === 0 ? 'hold' : { status: 204 }));
    const wh = await hook('/hangs');
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('delivered');
    const logs = await logsOf(wh.id);
    expect(logs.map((l) => [l.outcome, l.status])).toEqual([
      ['retrying', null],
      ['delivered', 204],
    ]);
    expect(logs[0].error).toBe('timed out after 1000 ms');
    receiver.releaseHeld();
  });

  test('when the webhook is disabled during retries, then the next attempt is logged cancelled and nothing more is sent', async () => {
    handlers.set('/disable-me', () => ({ status: 500 }));
    const wh = await hook('/disable-me', { max_retry: 8, mail_ids: ['ops@acme.test'] });
    const mailsBefore = smtp.mails.length;
    handlers.set('/disable-me', (n) => {
      if (n === 1) void Webhook.updateOne({ _id: wh.id }, { $set: { enabled: false } }).exec();
      return { status: 500 };
    });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.deliveries).toEqual([
      {
        webhookId: wh.id,
        target: urlTargetOf(`${receiver.url}/disable-me`, 'POST'),
        outcome: 'cancelled',
        error: 'webhook disabled',
      },
    ]);
    expect(result.status).toBe('failed');
    expect(hits('/disable-me')).toHaveLength(2);
    const logs = await logsOf(wh.id);
    expect(logs.map((l) => l.outcome)).toEqual(['retrying', 'retrying', 'cancelled']);
    expect(logs[2].error).toBe('webhook disabled');
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.mails).toHaveLength(mailsBefore);
  });

  test('when the URL is removed during retries, then only that URL stops and the others still deliver', async () => {
    handlers.set('/removed', () => ({ status: 500 }));
    const wh = await createWebhook(owner.organizationId, {
      urls: [
        { url: `${receiver.url}/removed`, method: 'POST' },
        { url: `${receiver.url}/kept`, method: 'POST' },
      ],
    });
    handlers.set('/removed', () => {
      void Webhook.updateOne(
        { _id: wh.id },
        { $set: { urls: [{ url: `${receiver.url}/kept`, method: 'POST' }] } },
      ).exec();
      return { status: 500 };
    });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('partially_failed');
    expect(result.deliveries).toContainEqual(
      expect.objectContaining({
        target: urlTargetOf(`${receiver.url}/removed`, 'POST'),
        outcome: 'cancelled',
        error: 'URL removed from the webhook',
      }),
    );
    expect(result.deliveries).toContainEqual(
      expect.objectContaining({ target: urlTargetOf(`${receiver.url}/kept`, 'POST'), outcome: 'delivered' }),
    );
    expect(hits('/removed')).toHaveLength(1);
    // The cancelled attempt is logged under the URL the webhook no longer has.
    const removed = (await logsOf(wh.id)).filter((l) => l.url === `${receiver.url}/removed`);
    expect(removed.map((l) => [l.attempt, l.outcome])).toEqual([
      [1, 'retrying'],
      [2, 'cancelled'],
    ]);
  });

  test('when the webhook is deleted before an attempt, then the attempt is logged cancelled', async () => {
    const wh = await hook('/deleted');
    handlers.set('/deleted', () => {
      void Webhook.deleteOne({ _id: wh.id }).exec();
      return { status: 500 };
    });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.deliveries[0]).toMatchObject({ outcome: 'cancelled', error: 'webhook deleted' });
    expect((await logsOf(wh.id)).map((l) => l.outcome)).toEqual(['retrying', 'cancelled']);
  });
});
