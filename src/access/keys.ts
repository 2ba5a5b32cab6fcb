import crypto from 'node:crypto';
import { RecentEntries } from '../cache/recentEntries';
import { ApiKey } from '../db/apiKey';
import { Organization } from '../db/organization';
import { Team } from '../db/team';
import { User } from '../db/user';
import type { AuthContext, Permission, Role } from '../shared/types';

/**
 * Organizations, teams, users and their API keys. A key is `hr_` + 32 random bytes (base64url);
 * only its SHA-256 is stored, so a leaked database does not leak usable keys.
 */
const KEY_PREFIX = 'hr_';

export const hashKey = (key: string): string => crypto.createHash('sha256').update(key).digest('hex');

const slugify = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** The organization with this slug, created on first mention. */
export async function ensureOrganization(slugOrName: string) {
  const slug = slugify(slugOrName);
  if (!slug) throw new Error('organization name must contain a letter or digit');
  return Organization.findOneAndUpdate(
    { slug },
    { $setOnInsert: { slug, name: slugOrName } },
    { upsert: true, new: true },
  ).orFail();
}

/** The team with this slug in the organization, created on first mention. */
export async function ensureTeam(organizationId: string, slugOrName: string) {
  const slug = slugify(slugOrName);
  if (!slug) throw new Error('team name must contain a letter or digit');
  return Team.findOneAndUpdate(
    { organizationId, slug },
    { $setOnInsert: { organizationId, slug, name: slugOrName } },
    { upsert: true, new: true },
  ).orFail();
}

export interface CreateKeyInput {
  org: string;
  role: Role;
  permissions?: Permission[];
  teams?: string[];
  /** The user the key acts as; a new user is made when absent or unknown. */
  user?: string;
}

export interface CreatedKey {
  key: string;
  keyId: string;
  organizationId: string;
  userId: string;
  teamIds: string[];
}

export async function createApiKey(input: CreateKeyInput): Promise<CreatedKey> {
  const org = await ensureOrganization(input.org);
  const organizationId = String(org._id);
  const teams = await Promise.all((input.teams ?? []).map((t) => ensureTeam(organizationId, t)));
  const teamIds = teams.map((t) => String(t._id));
  const name = input.user ?? `${input.role}-${crypto.randomBytes(3).toString('hex')}`;
  const user = await User.findOneAndUpdate(
    { organizationId, name },
    { $set: { role: input.role, permissions: input.permissions ?? [], teamIds } },
    { upsert: true, new: true },
  ).orFail();
  const key = KEY_PREFIX + crypto.randomBytes(32).toString('base64url');
  const doc = await ApiKey.create({
    organizationId,
    userId: String(user._id),
    hash: hashKey(key),
    prefix: key.slice(0, 10),
  });
  return { key, keyId: String(doc._id), organizationId, userId: String(user._id), teamIds };
}

/** Valid keys' callers, 10,000 at most (beyond it the oldest entry goes). */
const cachedCallers = new RecentEntries<AuthContext>(10_000);

/**
 * authenticateKey, remembering a valid key's caller for `ttlMs`: every API request authenticates,
 * and three store reads per event post cost more than the post itself. A revoked key, or a changed
 * role, takes effect within `ttlMs` (AUTH_CACHE_TTL_MS); unknown keys are never remembered.
 */
export async function authenticateKeyCached(key: string, ttlMs: number): Promise<AuthContext | null> {
  if (ttlMs <= 0) return authenticateKey(key);
  const hash = hashKey(key);
  const now = Date.now();
  const hit = cachedCallers.get(hash, ttlMs, now);
  if (hit) return hit;
  const auth = await authenticateKey(key);
  if (auth) cachedCallers.set(hash, auth, now);
  else cachedCallers.delete(hash);
  return auth;
}

/** The caller behind a key, or null when the key is unknown or revoked. */
export async function authenticateKey(key: string): Promise<AuthContext | null> {
  if (!key.startsWith(KEY_PREFIX)) return null;
  const doc = await ApiKey.findOne({ hash: hashKey(key), revokedAt: null }).lean();
  if (!doc) return null;
  const [user, org] = await Promise.all([
    User.findOne({ _id: doc.userId, organizationId: doc.organizationId }).lean(),
    Organization.findById(doc.organizationId).lean(),
  ]);
  if (!user || !org) return null;
  return {
    organizationId: doc.organizationId,
    organizationSlug: org.slug,
    userId: doc.userId,
    role: user.role as Role,
    permissions: user.permissions as Permission[],
    teamIds: user.teamIds,
    keyId: String(doc._id),
  };
}

export async function revokeApiKey(organizationId: string, keyIdOrPrefix: string): Promise<boolean> {
  const filter = /^[0-9a-f]{24}$/.test(keyIdOrPrefix)
    ? { _id: keyIdOrPrefix, organizationId }
    : { prefix: keyIdOrPrefix, organizationId };
  const res = await ApiKey.updateOne({ ...filter, revokedAt: null }, { $set: { revokedAt: new Date() } });
  return res.modifiedCount > 0;
}

/** May this caller manage webhooks (create, change, delete, read logs)? */
export const canManageWebhooks = (auth: AuthContext): boolean =>
  auth.role === 'owner' || auth.permissions.includes('manage_webhook');
