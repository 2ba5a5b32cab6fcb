/**
 * What the admin CLI does, one function per command, on an open store connection. Results are
 * returned as text for stdout; failures throw `AdminError` (exit 1) or `UsageError` (exit 2).
 */
import { createApiKey, ensureOrganization, ensureTeam, revokeApiKey } from '../access/keys';
import { ApiKey } from '../db/apiKey';
import { Organization } from '../db/organization';
import { Team } from '../db/team';
import { User } from '../db/user';
import { PERMISSIONS, type Permission, type Role } from '../shared/types';

/** Bad arguments: the CLI prints the message and the usage hint, and exits 2. */
export class UsageError extends Error {}
/** The command could not be done (unknown org or key, …): exit 1. */
export class AdminError extends Error {}

const ROLES: readonly Role[] = ['owner', 'user'];

export interface CreateKeyArgs {
  org: string;
  role: string;
  permissions: string[];
  teams: string[];
  user?: string;
}

export function checkCreateKeyArgs(args: CreateKeyArgs): void {
  if (!ROLES.includes(args.role as Role)) throw new UsageError(`--role must be owner or user, not "${args.role}"`);
  for (const p of args.permissions) {
    if (!PERMISSIONS.includes(p as Permission)) {
      throw new UsageError(`--permission must be one of ${PERMISSIONS.join(', ')}, not "${p}"`);
    }
  }
  for (const t of args.teams) checkName('--team', t);
  checkName('--org', args.org);
}

/** Org and team names become slugs, so they need a letter or digit. */
export function checkName(what: string, name: string): void {
  if (!/[a-z0-9]/i.test(name)) throw new UsageError(`${what} "${name}" needs a letter or digit`);
}

/** Creates the org, teams and user on first mention; returns only the new key. */
export async function createKey(args: CreateKeyArgs): Promise<string> {
  checkCreateKeyArgs(args);
  const created = await createApiKey({
    org: args.org,
    role: args.role as Role,
    permissions: [...new Set(args.permissions)] as Permission[],
    teams: args.teams,
    user: args.user,
  });
  return created.key;
}

const orgSlug = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

async function existingOrg(org: string) {
  const doc = await Organization.findOne({ slug: orgSlug(org) }).lean();
  if (!doc) throw new AdminError(`no organization "${org}"`);
  return doc;
}

export interface KeyRow {
  id: string;
  prefix: string;
  user: string;
  role: string;
  permissions: string[];
  teams: string[];
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** The org's keys, newest first: ids and prefixes, never the keys (only their hashes are stored). */
export async function listKeys(org: string): Promise<KeyRow[]> {
  const o = await existingOrg(org);
  const organizationId = String(o._id);
  const [keys, users, teams] = await Promise.all([
    ApiKey.find({ organizationId }).sort({ createdAt: -1, _id: -1 }).lean(),
    User.find({ organizationId }).lean(),
    Team.find({ organizationId }).lean(),
  ]);
  const teamSlug = new Map(teams.map((t) => [String(t._id), t.slug]));
  return keys.map((k) => {
    const u = users.find((x) => String(x._id) === k.userId);
    return {
      id: String(k._id),
      prefix: k.prefix,
      user: u?.name ?? '(deleted user)',
      role: u?.role ?? '',
      permissions: u?.permissions ?? [],
      teams: (u?.teamIds ?? []).map((id) => teamSlug.get(id) ?? id),
      created_at: (k.createdAt as Date).toISOString(),
      last_used_at: k.lastUsedAt ? k.lastUsedAt.toISOString() : null,
      revoked_at: k.revokedAt ? k.revokedAt.toISOString() : null,
    };
  });
}

export function formatKeyTable(rows: KeyRow[]): string {
  const header = ['ID', 'PREFIX', 'USER', 'ROLE', 'PERMISSIONS', 'TEAMS', 'CREATED', 'STATUS'];
  const lines = rows.map((r) => [
    r.id,
    r.prefix,
    r.user,
    r.role,
    r.permissions.join(',') || '-',
    r.teams.join(',') || '-',
    r.created_at,
    r.revoked_at ? `revoked ${r.revoked_at}` : 'active',
  ]);
  const table = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...table.map((l) => l[i].length)));
  return table
    .map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Revokes one active key of the org by id or prefix; an unknown or ambiguous one is an error. */
export async function revokeKey(org: string, keyIdOrPrefix: string): Promise<string> {
  const o = await existingOrg(org);
  const organizationId = String(o._id);
  if (!/^[0-9a-f]{24}$/.test(keyIdOrPrefix)) {
    const matches = await ApiKey.countDocuments({ organizationId, prefix: keyIdOrPrefix, revokedAt: null });
    if (matches > 1) throw new AdminError(`prefix "${keyIdOrPrefix}" matches ${matches} keys; revoke by id instead`);
  }
  if (!(await revokeApiKey(organizationId, keyIdOrPrefix))) {
    throw new AdminError(`no active key "${keyIdOrPrefix}" in organization "${org}"`);
  }
  return `revoked ${keyIdOrPrefix}`;
}

/** Creates the team (and the org) if new; returns the team id, which webhooks' `teams` take. */
export async function createTeam(org: string, name: string): Promise<string> {
  checkName('--org', org);
  checkName('team', name);
  const o = await ensureOrganization(org);
  const team = await ensureTeam(String(o._id), name);
  return String(team._id);
}
