/**
 * Turning off a failing URL on its webhook: the URL alone (`urls[i].disabled_at`,
 * `disabled_reason`) while the webhook has other URLs still delivering, else the webhook itself
 * (`enabled: false` with the same two fields). Re-enabling clears both.
 */
import { findOwnedById } from '../db/byId';
import { Webhook } from '../db/webhook';

export interface DisabledOn {
  scope: 'url' | 'webhook';
  webhookName: string;
  mailIds: string[];
  method: string;
}

type UrlEntry = {
  url?: string | null;
  method?: string | null;
  disabled_at?: Date | null;
  disabled_reason?: string | null;
};

/** Whether the URL with this key is disabled on its webhook (deliveries to it are cancelled). */
export const isUrlDisabled = (entry: UrlEntry | undefined): boolean => Boolean(entry?.disabled_at);

/** A webhook written by another request meanwhile is read again, this many times at most. */
const WRITE_TRIES = 5;

/**
 * Disables `url` on the webhook as of `at`, or finds it already disabled (a retried activity).
 * Compare-and-set on `updated_at`, like the API's own writes, so a concurrent edit is not lost.
 * `gone` when the webhook or the URL no longer exists: nothing to disable.
 */
export async function disableUrl(
  target: { organizationId: string; webhookId: string; url: string },
  at: Date,
  reason: string,
): Promise<DisabledOn | 'gone'> {
  for (let tries = 0; tries < WRITE_TRIES; tries++) {
    const doc = await findOwnedById(Webhook, target.webhookId, target.organizationId, {
      name: 1,
      mail_ids: 1,
      urls: 1,
      disabled_at: 1,
      updated_at: 1,
    });
    if (!doc) return 'gone';
    const urls = (doc.urls ?? []) as UrlEntry[];
    const entry = urls.find((u) => u.url === target.url);
    if (!entry) return 'gone';
    const found = { webhookName: doc.name, mailIds: [...(doc.mail_ids ?? [])], method: entry.method ?? 'POST' };
    if (isUrlDisabled(entry)) return { scope: 'url', ...found };
    if (doc.disabled_at) return { scope: 'webhook', ...found };
    const othersDelivering = urls.some((u) => u.url !== target.url && !isUrlDisabled(u));
    const update = othersDelivering
      ? {
          urls: urls.map((u) => (u.url === target.url ? { ...u, disabled_at: at, disabled_reason: reason } : u)),
        }
      : { enabled: false, disabled_at: at, disabled_reason: reason };
    const written = await Webhook.updateOne(
      { _id: target.webhookId, organizationId: target.organizationId, updated_at: doc.updated_at },
      { $set: update },
    );
    if (written.matchedCount === 1) return { scope: othersDelivering ? 'url' : 'webhook', ...found };
  }
  throw new Error(`webhook ${target.webhookId} kept changing while its URL was being disabled`);
}

/**
 * What enabling a webhook clears: the webhook's own auto-disable fields and every URL's, or null
 * when none is set (nothing to write).
 */
export function enabledAgain(doc: {
  urls?: UrlEntry[] | null;
  disabled_at?: Date | null;
}): Record<string, unknown> | null {
  const urls = doc.urls ?? [];
  if (!doc.disabled_at && !urls.some(isUrlDisabled)) return null;
  return {
    disabled_at: null,
    disabled_reason: null,
    urls: urls.map((u) => ({ url: u.url, method: u.method, disabled_at: null, disabled_reason: null })),
  };
}
