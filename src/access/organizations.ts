/**
 * The one lookup of an organization's name (events, manual fires and test sends stamp it into
 * `data.organization`). Cached briefly: the name can change in the store (another process, the
 * admin CLI), so an entry lives `ORGANIZATION_NAME_TTL_MS` and the cache holds a bounded number.
 */
import { Organization } from '../db/organization';

export const ORGANIZATION_NAME_TTL_MS = 60_000;
const MAX_CACHED = 10_000;

const cache = new Map<string, { name: string; at: number }>();

/** The organization's name, `''` when it has none or does not exist. `now` is for tests. */
export async function organizationName(organizationId: string, now = Date.now()): Promise<string> {
  const hit = cache.get(organizationId);
  if (hit && now - hit.at < ORGANIZATION_NAME_TTL_MS) return hit.name;
  const org = await Organization.findById(organizationId, { name: 1 }).lean();
  const name = org?.name ?? '';
  cache.delete(organizationId);
  // Maps iterate in insertion order: the first key is the entry refreshed longest ago.
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(organizationId, { name, at: now });
  return name;
}

/** Drops the cached name, for code that changes it in this process. */
export function forgetOrganizationName(organizationId: string): void {
  cache.delete(organizationId);
}
