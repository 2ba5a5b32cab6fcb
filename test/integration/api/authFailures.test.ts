import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { FailureCounter } from '../../../src/api/authFailures';
import { call, startHarness, testConfig, type Harness } from '../../support/harness';

describe('failed API-key attempts', () => {
  let h: Harness;
  let owner: CreatedKey;

  beforeAll(async () => {
    h = await startHarness(testConfig({ AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_MS: '60000' }));
    owner = await createApiKey({ org: 'acme', role: 'owner' });
  });
  afterAll(async () => h?.close());

  test('when an address sends the limit of bad keys, then it gets 429 with Retry-After, even with a good key, and health checks still answer', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await call(h.api, 'GET', '/v3/extensions/event-webhooks', { key: `hr_guess${i}` })).status).toBe(401);
    }
    const blocked = await call(h.api, 'GET', '/v3/extensions/event-webhooks', { key: owner.key });
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await call(h.api, 'GET', '/healthz')).status).toBe(200);
  });

  test('when the window ends, then the address may try again; good keys never count', () => {
    const counter = new FailureCounter(2, 1000);
    counter.fail('a', 0);
    expect(counter.blockedFor('a', 10)).toBe(0);
    counter.fail('a', 20);
    expect(counter.blockedFor('a', 30)).toBe(970);
    expect(counter.blockedFor('b', 30)).toBe(0);
    expect(counter.blockedFor('a', 1000)).toBe(0);
    counter.fail('a', 1000);
    expect(counter.blockedFor('a', 1001)).toBe(0);
  });
});
