/**
 * Webhook configs of one organization: create, list, read, replace, enable/disable, delete and
 * rotate the secret. Every function is scoped by the caller's organization, so another org's
 * webhook is simply not found (404, never 403). Nothing is half-saved: a request is fully checked
 * before its single write.
 */
import crypto from 'node:crypto';
import { Types } from 'mongoose';
import { AppError, type FieldError } from '../shared/errors';
import { refuseIfAnsweredAtDeadline } from '../shared/requestScope';
import type { Config } from '../config';
import { isDuplicateKey } from '../db/errors';
import { Webhook, type WebhookDoc } from '../db/webhook';
import { canManageWebhooks } from '../access/keys';
import { enabledAgain } from '../autoDisable/disable';
import { forgetWebhook, resetWebhookStreaks } from '../autoDisable/streaks';
import type { AuthContext } from '../shared/types';
import { parseWebhookRequest } from './schema';
import { freshSecret, rotateSecrets, type StoredSecret } from './secrets';
import { checkWebhook, type WebhookRecord } from './validate';

export type WebhookConfig = Pick<Config, 'ALLOW_PRIVATE_TARGETS' | 'SECRET_ROTATION_GRACE_MS'>;

/** Path words under /v3/extensions/event-webhooks that a slug must not shadow. */
const RESERVED_SLUGS = new Set(['events', 'templates', 'payload', 'test', 'logs']);

const summary = (errors: FieldError[]) => errors.map((e) => `${e.field}: ${e.message}`).join('; ');

/** The request body checked (400 shape, 422 meaning) and turned into the record to store. */
async function recordFrom(
  body: unknown,
  auth: AuthContext,
  config: WebhookConfig,
  existing?: { headers: { name: string; value: string }[]; urls: string[] },
): Promise<WebhookRecord> {
  const parsed = parseWebhookRequest(body);
  if (!parsed.ok) throw AppError.badRequest(`invalid webhook: ${summary(parsed.errors)}`, parsed.errors);
  const checked = await checkWebhook(parsed.value, {
    organizationId: auth.organizationId,
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
    existingHeaders: existing?.headers,
    existingUrls: existing?.urls,
  });
  if (!checked.ok) throw AppError.unprocessable(`invalid webhook: ${summary(checked.errors)}`, checked.errors);
  return checked.record;
}

const slugify = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60)
    .replace(/-$/, '');

export async function createWebhook(auth: AuthContext, body: unknown, config: WebhookConfig): Promise<WebhookDoc> {
  const record = await recordFrom(body, auth, config);
  const base = slugify(record.name) || 'webhook';
  const taken = RESERVED_SLUGS.has(base) || (await Webhook.exists({ organizationId: auth.organizationId, slug: base }));
  for (let attempt = 0; ; attempt++) {
    const slug = taken || attempt > 0 ? `${base}-${crypto.randomBytes(3).toString('hex')}` : base;
    try {
      refuseIfAnsweredAtDeadline();
      return await Webhook.create({
        ...record,
        organizationId: auth.organizationId,
        slug,
        author_id: auth.userId,
        secrets: [freshSecret(new Date())],
      });
    } catch (err) {
      if (!isDuplicateKey(err) || attempt >= 3) throw err;
    }
  }
}

/** The webhook of the caller's org by id or slug; 404 otherwise. */
export async function findWebhook(auth: AuthContext, idOrSlug: string): Promise<WebhookDoc> {
  const byId = /^[0-9a-f]{24}$/i.test(idOrSlug) && Types.ObjectId.isValid(idOrSlug);
  const doc = await Webhook.findOne({
    organizationId: auth.organizationId,
    ...(byId ? { $or: [{ _id: idOrSlug.toLowerCase() }, { slug: idOrSlug }] } : { slug: idOrSlug }),
  });
  if (!doc) throw AppError.notFound(`webhook ${idOrSlug}`);
  return doc;
}

export interface Page {
  limit: number;
  offset: number;
}

/**
 * Managers see every webhook of the org; plain users only the enabled manual webhooks that one of
 * their teams may fire (or that all teams may fire), newest first.
 */
export async function listWebhooks(auth: AuthContext, page: Page): Promise<{ docs: WebhookDoc[]; total: number }> {
  const filter = canManageWebhooks(auth)
    ? { organizationId: auth.organizationId }
    : {
        organizationId: auth.organizationId,
        trigger_type: 'manual',
        enabled: true,
        $or: [{ is_all_teams_configured: true }, { teams: { $in: auth.teamIds } }],
      };
  const [docs, total] = await Promise.all([
    Webhook.find(filter).sort({ created_at: -1, _id: -1 }).skip(page.offset).limit(page.limit),
    Webhook.countDocuments(filter),
  ]);
  return { docs, total };
}

/**
 * Writes `update` only if the webhook is unchanged since it was read (its `updated_at`), so two
 * concurrent writers cannot interleave a read-modify-write; the loser gets 409.
 */
async function updateIfUnchanged(doc: WebhookDoc, update: Record<string, unknown>): Promise<WebhookDoc> {
  refuseIfAnsweredAtDeadline();
  const updated = await Webhook.findOneAndUpdate(
    { _id: doc._id, organizationId: doc.organizationId, updated_at: doc.get('updated_at') },
    { $set: update },
    { new: true, runValidators: true },
  );
  if (updated) return updated;
  if (!(await Webhook.exists({ _id: doc._id }))) throw AppError.notFound(`webhook ${String(doc._id)}`);
  throw AppError.conflict('the webhook was changed by another request; read it again and retry');
}

/**
 * PUT: a full replace of the editable fields; id, slug, author, secrets and created_at stay. A URL
 * that stays keeps its auto-disabled state (POST …/enable clears it); `enabled: true` on a webhook
 * auto-disable turned off enables it again, as POST …/enable does.
 */
export async function replaceWebhook(
  auth: AuthContext,
  idOrSlug: string,
  body: unknown,
  config: WebhookConfig,
): Promise<WebhookDoc> {
  const doc = await findWebhook(auth, idOrSlug);
  const record = await recordFrom(body, auth, config, {
    headers: (doc.headers ?? []).map((h) => ({ name: h.name ?? '', value: h.value ?? '' })),
    urls: (doc.urls ?? []).map((u) => u.url ?? ''),
  });
  const before = new Map((doc.urls ?? []).map((u) => [u.url, u]));
  const urls = record.urls.map((u) => {
    const old = before.get(u.url);
    return { ...u, disabled_at: old?.disabled_at ?? null, disabled_reason: old?.disabled_reason ?? null };
  });
  const reenabled = record.enabled && !doc.enabled && Boolean(doc.disabled_at);
  const updated = await updateIfUnchanged(doc, {
    ...record,
    urls,
    ...(reenabled ? { disabled_at: null, disabled_reason: null } : {}),
  });
  if (reenabled) await resetWebhookStreaks(updated.organizationId, String(updated._id));
  return updated;
}

/**
 * Enable also clears what auto-disable set (on the webhook and on each URL) and resets the
 * webhook's failure streaks, so every URL starts afresh.
 */
export async function setWebhookEnabled(auth: AuthContext, idOrSlug: string, enabled: boolean): Promise<WebhookDoc> {
  const doc = await findWebhook(auth, idOrSlug);
  const cleared = enabled ? enabledAgain(doc) : null;
  refuseIfAnsweredAtDeadline();
  const updated = cleared
    ? await updateIfUnchanged(doc, { enabled, ...cleared })
    : await Webhook.findOneAndUpdate({ _id: doc._id }, { $set: { enabled } }, { new: true });
  if (!updated) throw AppError.notFound(`webhook ${idOrSlug}`);
  if (enabled) await resetWebhookStreaks(updated.organizationId, String(updated._id));
  return updated;
}

export async function deleteWebhook(auth: AuthContext, idOrSlug: string): Promise<void> {
  const doc = await findWebhook(auth, idOrSlug);
  refuseIfAnsweredAtDeadline();
  await Webhook.deleteOne({ _id: doc._id, organizationId: auth.organizationId });
  await forgetWebhook(auth.organizationId, String(doc._id));
}

/** A new current secret; the previous ones keep signing for `graceMs` (default SECRET_ROTATION_GRACE_MS). */
export async function rotateWebhookSecret(
  auth: AuthContext,
  idOrSlug: string,
  config: WebhookConfig,
  graceMs = config.SECRET_ROTATION_GRACE_MS,
): Promise<WebhookDoc> {
  const doc = await findWebhook(auth, idOrSlug);
  const current: StoredSecret[] = (doc.secrets ?? []).map((s) => ({
    value: s.value ?? '',
    createdAt: s.createdAt ?? new Date(0),
    expiresAt: s.expiresAt ?? null,
  }));
  return updateIfUnchanged(doc, { secrets: rotateSecrets(current, new Date(), graceMs) });
}
