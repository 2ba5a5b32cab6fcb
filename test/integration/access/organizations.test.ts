import { createApiKey } from '../../../src/access/keys';
import { ORGANIZATION_NAME_TTL_MS, organizationName } from '../../../src/access/organizations';
import { Organization } from '../../../src/db/organization';
import { startHarness, type Harness } from '../../support/harness';

describe('organization names', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  test('when an organization is renamed in the store, then its cached name is replaced within the time to live', async () => {
    const { organizationId } = await createApiKey({ org: 'Initech', role: 'owner' });
    const t0 = Date.now();
    expect(await organizationName(organizationId, t0)).toBe('Initech');
    await Organization.updateOne({ _id: organizationId }, { name: 'Initrode' });
    // Within the time to live the cache answers; past it, the store does.
    expect(await organizationName(organizationId, t0 + 1000)).toBe('Initech');
    expect(await organizationName(organizationId, t0 + ORGANIZATION_NAME_TTL_MS)).toBe('Initrode');
  });

  test('when the organization does not exist, then its name is empty', async () => {
    expect(await organizationName('000000000000000000000000')).toBe('');
  });
});
