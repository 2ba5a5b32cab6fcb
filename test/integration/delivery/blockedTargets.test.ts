import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { startReceiver, type Receiver } from '../../support/receiver';
import { startSmtp, type SmtpCatcher } from '../../support/smtp';
import { createWebhook, deliverEvent, freshEvent, logsOf } from '../../support/deliveries';
import { startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

describe('a target refused at connect as non-public', () => {
  let smtp: SmtpCatcher;
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;

  beforeAll(async () => {
    smtp = await startSmtp();
    // Private targets refused, as in production; short retries, so a retried attempt would show.
    const config = testConfig({
      SMTP_URL: smtp.url,
      ALLOW_PRIVATE_TARGETS: 'false',
      RETRY_INITIAL_INTERVAL_MS: '100',
      RETRY_BACKOFF_COEFFICIENT: '1',
    });
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver();
    owner = await createApiKey({ org: 'acme', role: 'owner' });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await smtp?.close();
    await h?.close();
  });

  test('when a saved name resolves to loopback at delivery, then it fails at once: one row, one mail, no internal address named', async () => {
    // Stored directly: saving refuses `localhost`, but any public-looking name can resolve inward later.
    const port = new URL(receiver.url).port;
    const wh = await createWebhook(owner.organizationId, {
      urls: [{ url: `http://localhost:${port}/blocked`, method: 'POST' }],
      max_retry: 3,
      mail_ids: ['ops@acme.test'],
    });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('failed');

    const logs = await logsOf(wh.id);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      attempt: 1,
      outcome: 'failed',
      error: 'localhost resolves to a non-public address',
    });
    const [mail] = await smtp.waitForMails(1);
    expect(smtp.mails).toHaveLength(1);
    expect(mail.text).toContain('localhost resolves to a non-public address');
    expect(mail.text).not.toContain('127.0.0.1');
    expect(receiver.requests).toHaveLength(0);
  });
});
