import net from 'node:net';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { attemptLogId } from '../../../src/db/deliveryLog';
import { deliveryIdOf } from '../../../src/delivery/signing';
import { originOf, urlKeyOf, urlTargetOf } from '../../../src/delivery/target';
import { startReceiver, type Receiver } from '../../support/receiver';
import { startSmtp, type SmtpCatcher } from '../../support/smtp';
import { createWebhook, deliverEvent, freshEvent } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

// Slack-style: the path is the credential.
const TOKEN = 'SECRETTOKEN123';
const PATH = `/services/T000/B000/${TOKEN}`;
const HEADER_VALUE = 'header-value-kept-out';

/** Every value in a history as text: bytes (payloads, their metadata, summaries) decoded as UTF-8. */
function decoded(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(decoded);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decoded(v)]));
  }
  return value;
}

/** A port nothing listens on, so a delivery to it fails with a connection error. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('workflow history: webhook URLs stay out of it', () => {
  let smtp: SmtpCatcher;
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  let refusing: string;
  let orgs = 0;

  beforeAll(async () => {
    smtp = await startSmtp();
    const config = testConfig({ SMTP_URL: smtp.url, RETRY_INITIAL_INTERVAL_MS: '100', DELIVERY_TIMEOUT_MS: '2000' });
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver();
    refusing = `http://127.0.0.1:${await closedPort()}`;
  });
  beforeEach(async () => {
    owner = await createApiKey({ org: `acme-${++orgs}`, role: 'owner' });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await smtp?.close();
    await h?.close();
  });

  /** The decoded history of a workflow and of every child it started. */
  async function historyText(workflowId: string): Promise<string> {
    const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const children = events
      .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
      .filter((id): id is string => !!id);
    const texts = await Promise.all(children.map(historyText));
    return [JSON.stringify(decoded(events)), ...texts].join('\n');
  }

  test('when a delivery succeeds and another fails with retries and a mail, then no history holds the URL path, while receiver, logs and mail have the full URL', async () => {
    const good = `${receiver.url}${PATH}`;
    const bad = `${refusing}${PATH}/down?token=${TOKEN}`;
    const wh = await createWebhook(owner.organizationId, {
      urls: [
        { url: good, method: 'POST' },
        { url: bad, method: 'PUT' },
      ],
      headers: [{ name: 'X-Custom', value: HEADER_VALUE }],
      max_retry: 1,
      mail_ids: ['ops@acme.test'],
    });
    const event = freshEvent();
    const { res, result } = await deliverEvent(h.api, owner.key, h.temporal, event);

    expect(result.status).toBe('partially_failed');
    expect(result.deliveries).toEqual([
      { webhookId: wh.id, target: { key: urlKeyOf(good), method: 'POST', origin: receiver.url }, outcome: 'delivered' },
      {
        webhookId: wh.id,
        target: { key: urlKeyOf(bad), method: 'PUT', origin: refusing },
        outcome: 'failed',
        error: expect.stringContaining('ECONNREFUSED'),
      },
    ]);
    expect(result.deliveries[0].target.key).toMatch(/^[0-9a-f]{16}$/);

    const text = await historyText(res.body.data.workflow_id);
    expect(text).toContain(event.event.id); // payloads were decoded
    expect(text).toContain(urlKeyOf(bad));
    expect(text).toContain(`PUT ${refusing}/…`); // the activity's summary
    expect(text).toContain('handleDeliveryFailure');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('/services/');
    expect(text).not.toContain(HEADER_VALUE);

    // Everything outside history still has the full URL, and ids derived from it are unchanged.
    const [request] = receiver.requests.filter((r) => r.path === PATH);
    expect(request.headers['x-custom']).toBe(HEADER_VALUE);
    const deliveryId = deliveryIdOf(owner.organizationId, event.event.id, wh.id);
    expect(request.headers['webhook-id']).toBe(deliveryId);
    const logs = await call(h.api, 'GET', `/v3/extensions/event-webhooks/${wh.id}/logs`, { key: owner.key });
    const rows = logs.body.data.result.map((r: any) => [r.url, r.method, r.attempt, r.outcome, r.id]);
    expect(rows).toHaveLength(3);
    expect(rows).toEqual(
      expect.arrayContaining([
        [good, 'POST', 1, 'delivered', String(attemptLogId(deliveryId, good, 1))],
        [bad, 'PUT', 1, 'retrying', String(attemptLogId(deliveryId, bad, 1))],
        [bad, 'PUT', 2, 'failed', String(attemptLogId(deliveryId, bad, 2))],
      ]),
    );
    const [mail] = await smtp.waitForMails(1);
    expect(mail.text).toContain(`URL:        PUT ${bad}`);
    const stored = await call(h.api, 'GET', `/v3/extensions/event-webhooks/${wh.id}/mails`, { key: owner.key });
    expect(stored.body.data.result.map((m: any) => m.url)).toEqual([bad]);
  });

  test('when deliveries fan out to child workflows, then neither the parent nor any child history holds a URL path', async () => {
    const urls = Array.from({ length: 11 }, (_, i) => ({
      url: i === 0 ? `${refusing}${PATH}/${i}` : `${receiver.url}${PATH}/${i}`,
      method: 'POST',
    }));
    const wh = await createWebhook(owner.organizationId, { urls, max_retry: 1 });
    const { res, result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('partially_failed');
    expect(result.deliveries).toContainEqual(
      expect.objectContaining({ webhookId: wh.id, target: urlTargetOf(urls[0].url, 'POST'), outcome: 'failed' }),
    );
    expect(receiver.requests.filter((r) => r.path.startsWith(`${PATH}/`))).toHaveLength(10);

    const text = await historyText(res.body.data.workflow_id);
    expect(text).toContain(`${res.body.data.workflow_id}-webhook-${wh.id}`);
    expect(text).toContain('deliverAttempt');
    expect(text).not.toContain(TOKEN);
  });
});

describe('UrlTarget', () => {
  test('when a URL has user info, a path and a query, then its origin has none of them', () => {
    expect(originOf(`https://user:pass@hooks.example.com:8443${PATH}?token=${TOKEN}#x`)).toBe(
      'https://hooks.example.com:8443',
    );
    expect(originOf(`https://hooks.example.com:443${PATH}`)).toBe('https://hooks.example.com');
    expect(originOf('not a url')).toBe('invalid URL');
  });
});
