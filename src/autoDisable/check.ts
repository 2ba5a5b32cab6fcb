/**
 * Auto-disable: what happens after a delivery's final outcome. A failed delivery counts into its
 * URL's streak; a streak that has lasted AUTO_DISABLE_AFTER with at least AUTO_DISABLE_MIN_FAILURES
 * failed deliveries disables the URL (or its webhook) and mails the webhook's failure addresses,
 * once however many workers race (the disable is claimed by an insert on a unique `_id`). A
 * delivered one ends the streak.
 */
import { RecentEntries } from '../cache/recentEntries';
import type { Config } from '../config';
import type { Mailer } from '../mail/mailer';
import { disableUrl } from './disable';
import { sendDisableMail } from './mail';
import { claimDisable, countFailure, markDisabled, resetAfterSuccess, streakIdOf, type Streak } from './streaks';

export type AutoDisableConfig = Pick<Config, 'AUTO_DISABLE_AFTER' | 'AUTO_DISABLE_MIN_FAILURES'>;

export interface FinalFailure {
  organizationId: string;
  webhookId: string;
  url: string;
  urlKey: string;
  deliveryId: string;
}

export type AutoDisableResult = 'off' | 'counted' | 'disabled' | 'gone';

const formatDuration = (ms: number) => {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
};

export function disableReasonOf(streak: Pick<Streak, 'since' | 'failures'>, config: AutoDisableConfig): string {
  return (
    `auto-disabled: ${streak.failures ?? 0} deliveries in a row failed since ${streak.since.toISOString()} ` +
    `(AUTO_DISABLE_AFTER ${formatDuration(config.AUTO_DISABLE_AFTER)}, AUTO_DISABLE_MIN_FAILURES ${config.AUTO_DISABLE_MIN_FAILURES})`
  );
}

/** Whether the streak has earned a disable (and nobody disabled it yet). */
export function isDue(streak: Streak, config: AutoDisableConfig, now: Date): boolean {
  return (
    !streak.disabledAt &&
    (streak.failures ?? 0) >= config.AUTO_DISABLE_MIN_FAILURES &&
    now.getTime() - streak.since.getTime() >= config.AUTO_DISABLE_AFTER
  );
}

/**
 * After a delivery to one URL finally failed. Idempotent per delivery: run again (a retried
 * activity), it counts nothing new, and if this delivery won the disable it finishes what is left
 * of it (the webhook change, the mail). Throws on store errors and transient SMTP errors, for the
 * activity to retry.
 */
export async function afterFinalFailure(
  f: FinalFailure,
  deps: { config: AutoDisableConfig; mailer: Mailer | null; now?: Date },
): Promise<AutoDisableResult> {
  if (!deps.config.AUTO_DISABLE_AFTER) return 'off';
  recentlyClean.delete(streakIdOf(f.webhookId, f.urlKey));
  const now = deps.now ?? new Date();
  const streak = await countFailure({ ...f, at: now });
  if (!streak) return 'counted';
  // Already disabled: only the delivery that did it goes on (its retry finishes the mail).
  const due = streak.disabledAt ? streak.disabledBy === f.deliveryId : isDue(streak, deps.config, now);
  if (!due) return 'counted';
  const claimed = await claimDisable(streak, {
    deliveryId: f.deliveryId,
    at: now,
    reason: disableReasonOf(streak, deps.config),
  });
  if (!claimed) return 'counted';
  await markDisabled(streak, claimed);
  const on = await disableUrl(f, claimed.at, claimed.reason);
  if (on === 'gone') return 'gone';
  await sendDisableMail(
    {
      organizationId: f.organizationId,
      webhookId: f.webhookId,
      webhookName: on.webhookName,
      mailIds: on.mailIds,
      url: f.url,
      method: on.method,
      scope: on.scope,
      since: claimed.since,
      failures: claimed.failures,
      disabledAt: claimed.at,
    },
    deps,
  );
  return 'disabled';
}

/**
 * URLs this worker found without a streak (it ended one, or there was none) in the last
 * CLEAN_FOR_MS, and did not count a failure for since: their successes skip the store write. A
 * failure another worker counts meanwhile ends at this worker's next success after the window,
 * so a streak outlives a success by at most that long (a disable comes that much early, at worst,
 * after days of failures). Bounded; the oldest go first.
 */
const CLEAN_FOR_MS = 10_000;
const recentlyClean = new RecentEntries<true>(10_000);

/** After a delivery to one URL succeeded: its streak ends. */
export async function afterSuccess(
  d: { webhookId: string; urlKey: string },
  config: AutoDisableConfig,
  now = Date.now(),
): Promise<void> {
  if (!config.AUTO_DISABLE_AFTER) return;
  const key = streakIdOf(d.webhookId, d.urlKey);
  if (recentlyClean.get(key, CLEAN_FOR_MS, now)) return;
  await resetAfterSuccess(d.webhookId, d.urlKey);
  recentlyClean.set(key, true, now);
}
