import { authenticateKey, createApiKey, revokeApiKey } from '../../../src/access/keys';
import { startHarness, type Harness } from '../../support/harness';

describe('API keys', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  test('when a key is created, then it authenticates as its user, org and teams', async () => {
    const created = await createApiKey({ org: 'acme', role: 'user', permissions: ['manage_webhook'], teams: ['sre'] });
    const auth = await authenticateKey(created.key);
    expect(auth).toMatchObject({
      organizationId: created.organizationId,
      organizationSlug: 'acme',
      role: 'user',
      permissions: ['manage_webhook'],
      teamIds: created.teamIds,
    });
    expect(created.teamIds).toHaveLength(1);
  });

  test('when the same org and team are named twice, then they are reused', async () => {
    const a = await createApiKey({ org: 'Globex', role: 'owner', teams: ['ops'] });
    const b = await createApiKey({ org: 'globex', role: 'user', teams: ['ops'] });
    expect(b.organizationId).toBe(a.organizationId);
    expect(b.teamIds).toEqual(a.teamIds);
  });

  test('when a key is revoked or unknown, then it no longer authenticates', async () => {
    const created = await createApiKey({ org: 'acme', role: 'owner' });
    expect(await revokeApiKey(created.organizationId, created.keyId)).toBe(true);
    expect(await authenticateKey(created.key)).toBeNull();
    expect(await authenticateKey('hr_nonsense')).toBeNull();
    expect(await authenticateKey('not-even-a-key')).toBeNull();
  });
});
