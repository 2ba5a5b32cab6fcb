/**
 * The one lookup of an organization's name (events, manual fires and test sends stamp it into
 * `data.organization`). Cached briefly: the name can change in the store (another process, the
 * admin CLI), so an entry lives `ORGANIZATION_NAME_TTL_MS` and the cache holds a bounded number.
 */
import { RecentEntries } from '../cache/recentEntries';
import { Organization } from '../db/organization';

export const ORGANIZATION_NAME_TTL_MS = 60_000;
const cache = new RecentEntries<string>(10_000);

/** The organization's name, `''` when it has none or does not exist. `now` is for tests. */
export async function organizationName(organizationId: string, now = Date.now()): Promise<string> {
  const hit = cache.get(organizationId, ORGANIZATION_NAME_TTL_MS, now);
  if (hit !== undefined) return hit;
  const org = await Organization.findById(organizationId, { name: 1 }).lean();
  const name = org?.name ?? '';
  cache.set(organizationId, name, now);
  return name;
}

/** Drops the cached name, for code that changes it in this process. */
export function forgetOrganizationName(organizationId: string): void {
  cache.delete(organizationId);
}
