import { createApiKey, revokeApiKey } from '../../../src/access/keys';
import { call, startHarness, testConfig, type Harness } from '../../support/harness';

test('when a remembered key is revoked, then it keeps working at most AUTH_CACHE_TTL_MS', async () => {
  const h: Harness = await startHarness(testConfig({ AUTH_CACHE_TTL_MS: '1500' }));
  try {
    const owner = await createApiKey({ org: 'acme', role: 'owner' });
    const list = (key: string) => call(h.api, 'GET', '/v3/extensions/event-webhooks', { key });
    expect((await list(owner.key)).status).toBe(200);
    expect(await revokeApiKey(owner.organizationId, owner.keyId)).toBe(true);
    const revokedAt = Date.now();
    // Remembered: still answered, but only within the window.
    const within = await list(owner.key);
    if (Date.now() - revokedAt < 1400) expect(within.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await list(owner.key)).status).toBe(401);
    expect((await list(owner.key)).status).toBe(401);
  } finally {
    await h.close();
  }
});
