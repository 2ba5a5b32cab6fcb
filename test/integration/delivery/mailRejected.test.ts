import { createApiKey } from '../../../src/access/keys';
import { FailureMail } from '../../../src/db/mail';
import { SA_DELIVERY_STATUS } from '../../../src/shared/searchAttributes';
import { createWebhook, deliverEvent, freshEvent } from '../../support/deliveries';
import { startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';
import { startReceiver, type Receiver } from '../../support/receiver';
import { startSmtp, type SmtpCatcher } from '../../support/smtp';

describe('a failure mail the SMTP server refuses for good', () => {
  let smtp: SmtpCatcher;
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;

  beforeAll(async () => {
    smtp = await startSmtp({ rejectRecipients: true });
    const config = testConfig({ SMTP_URL: smtp.url, RETRY_INITIAL_INTERVAL_MS: '50' });
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver(() => ({ status: 500 }));
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
    await smtp?.close();
  });

  test('when SMTP answers 550, then the mail is recorded as rejected and the run completes with its status set', async () => {
    const owner = await createApiKey({ org: 'acme', role: 'owner' });
    const wh = await createWebhook(owner.organizationId, {
      urls: [{ url: `${receiver.url}/down`, method: 'POST' }],
      max_retry: 0,
      mail_ids: ['nobody@acme.test'],
    });
    // Before the fix the mail activity retried for ever: the run never completed.
    const { res, result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('failed');
    const described = await h.temporal.workflow.getHandle(res.body.data.workflow_id).describe();
    expect(described.typedSearchAttributes.get(SA_DELIVERY_STATUS)).toBe('failed');
    const mails = await FailureMail.find({ webhookId: wh.id }).lean();
    expect(mails.map((m) => m.status)).toEqual(['rejected']);
    expect(mails[0].error).toMatch(/550/);
    expect(smtp.mails).toHaveLength(0);
  }, 30_000);
});
