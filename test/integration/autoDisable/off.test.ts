import { createApiKey } from '../../../src/access/keys';
import { UrlFailureStreak } from '../../../src/db/urlFailureStreak';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

describe('auto-disable: AUTO_DISABLE_AFTER=0', () => {
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;

  beforeAll(async () => {
    const config = testConfig({
      RETRY_INITIAL_INTERVAL_MS: '50',
      AUTO_DISABLE_AFTER: '0',
      AUTO_DISABLE_MIN_FAILURES: '1',
    });
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver(() => ({ status: 500 }));
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  test('when a URL fails every delivery (MIN_FAILURES 1, so each failure would be enough), then it is never disabled and no streak is kept', async () => {
    const owner = await createApiKey({ org: 'autodisable-off', role: 'owner' });
    const wh = await createWebhook(owner.organizationId, {
      urls: [{ url: `${receiver.url}/dead`, method: 'POST' }],
      max_retry: 0,
      mail_ids: ['ops@acme.test'],
    });
    for (let i = 0; i < 4; i++) {
      expect((await deliverEvent(h.api, owner.key, h.temporal, freshEvent())).result.status).toBe('failed');
    }
    expect(receiver.requests).toHaveLength(4);
    const data = (await call(h.api, 'GET', `/v3/extensions/event-webhooks/${wh.id}`, { key: owner.key })).body.data;
    expect(data).toMatchObject({ enabled: true, disabled_at: null, disabled_reason: null });
    expect(await UrlFailureStreak.countDocuments({ webhookId: wh.id })).toBe(0);
  });
});
