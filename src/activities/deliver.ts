import { ApplicationFailure, Context, log, type Info } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import { afterSuccess } from '../autoDisable/check';
import { isUrlDisabled } from '../autoDisable/disable';
import type { Config } from '../config';
import { readAttemptWebhook, recentlyPlanned } from '../delivery/recentWebhooks';
import { attemptAndLog, closeInterruptedAttempts, logCancelled, loggedUrlOf } from '../delivery/attempt';
import { activeSecrets, deliveryIdOf } from '../delivery/signing';
import { withStoreRetry } from '../db/storeRetry';
import { urlByKey } from '../delivery/target';
import { acceptToFirstAttempt, deliveriesRetrying, deliveryAttempts } from '../metrics/registry';
import { awaitSlot, slotKeyOf, type SlotClaimer } from '../rateLimit/slots';
import {
  DELIVERY_CANCELLED,
  DELIVERY_FAILED,
  SLOT_LEAD_MS,
  SLOT_MISSED,
  type DeliveryRequest,
  type SlotMissedDetails,
} from '../shared/delivery';

export interface AttemptAnswer {
  status: number;
  durationMs: number;
}

/**
 * Why a delivery must stop before this attempt, or null when the webhook still wants it; `url` is
 * what the request's key finds among the webhook's URLs.
 */
/** How often a regular attempt heartbeats (see ATTEMPT_HEARTBEAT_TIMEOUT_MS). */
const HEARTBEAT_EVERY_MS = 3_000;

/** How long a local first attempt or a rate-limited one runs before it is marked in flight (see attemptAndLog). */
const DEFERRED_MARK_AFTER_MS = 1000;

/**
 * Whether an attempt's failure leaves its delivery retrying: a retryable DeliveryFailed (or any
 * other retryable error, a store error say) before the last attempt.
 */
function isRetryingFailure(err: unknown, attempt: number, maxAttempts: number): boolean {
  if (attempt >= maxAttempts) return false;
  return !(err instanceof ApplicationFailure && err.nonRetryable);
}

export function cancelReason(
  webhook: { enabled?: boolean | null } | null,
  url: string | undefined,
  urlDisabled = false,
): string | null {
  if (!webhook) return 'webhook deleted';
  if (!webhook.enabled) return 'webhook disabled';
  if (!url) return 'URL removed from the webhook';
  if (urlDisabled) return 'URL disabled after its deliveries kept failing';
  return null;
}

export function deliveryActivities(deps: { config: Config; claimSlot: SlotClaimer }) {
  return {
    /**
     * One HTTP attempt of one (webhook, URL) delivery; Temporal retries it (maximumAttempts =
     * max_retry + 1, backoff from the retry profile). Re-reads the webhook first and finds the URL
     * by its key: deleted, disabled, URL removed or URL auto-disabled → logs `cancelled` and
     * throws a non-retryable DeliveryCancelled (when the webhook no longer has the URL, the row goes under the URL an
     * earlier attempt logged; a first attempt has none, so it logs nothing). Headers and
     * signatures are made afresh; every attempt is logged (marked in flight first, so a worker crash
     * leaves a trace that the next attempt closes as interrupted; a local first attempt is marked
     * only once it has run for a second, see DEFERRED_MARK_AFTER_MS). 2xx returns; anything else throws a
     * retryable DeliveryFailed, with `nextRetryDelay` from a capped Retry-After on 429/503.
     * A 2xx also ends the URL's auto-disable failure streak (a store error there is only logged:
     * failing the attempt would send the request again).
     */
    async deliverAttempt(req: DeliveryRequest): Promise<AttemptAnswer> {
      const context = Context.current();
      // A regular attempt tells Temporal it is alive (a local one lives inside its workflow task).
      const heartbeat = context.info.isLocal ? undefined : setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      // A retry was counted as retrying when the attempt before it ended so; it counts until it ends.
      const retry = context.info.attempt + (req.firstAttempt ?? 1) > 2;
      try {
        return await deliverAttemptOnce(req, context.info);
      } catch (err) {
        if (isRetryingFailure(err, context.info.attempt + (req.firstAttempt ?? 1) - 1, req.maxAttempts)) {
          deliveriesRetrying.inc();
        }
        throw err;
      } finally {
        clearInterval(heartbeat);
        if (retry) deliveriesRetrying.dec();
      }
    },
  };

  /** One attempt, as deliverAttempt describes it. */
  async function deliverAttemptOnce(req: DeliveryRequest, info: Info): Promise<AttemptAnswer> {
    let attempt = info.attempt + (req.firstAttempt ?? 1) - 1;
    if (attempt === 1 && !req.afterRetriedTask && req.acceptedAt !== undefined) {
      acceptToFirstAttempt.observe(Math.max(0, Date.now() - req.acceptedAt) / 1000);
    }
    const deliveryId = deliveryIdOf(req.organizationId, req.eventId, req.webhookId);
    if (attempt > 1) {
      // Only a retry can find rows an earlier attempt of this delivery left pending.
      await closeInterruptedAttempts(deliveryId, req.urlKey, attempt, req.maxAttempts, req.round);
    } else if (req.afterRetriedTask) {
      // A local first attempt run again because its workflow task was (its worker died): an
      // attempt it interrupted that had been marked gets its row, and this one the next number.
      const interrupted = await closeInterruptedAttempts(deliveryId, req.urlKey, Infinity, req.maxAttempts, req.round);
      attempt = Math.min(interrupted + 1, req.maxAttempts);
    }
    // An event's local first attempt runs right after its plan read the webhook: it takes that read.
    const step = { trigger: req.trigger, isLocal: info.isLocal, first: attempt === 1 };
    const webhook =
      recentlyPlanned(step, req.organizationId, req.webhookId) ??
      (await withStoreRetry(() => readAttemptWebhook(req.webhookId, req.organizationId)));
    const url = urlByKey(webhook?.urls, req.urlKey);
    const urlDisabled = isUrlDisabled(webhook?.urls?.find((u) => u.url === url));
    const spec = {
      organizationId: req.organizationId,
      webhookId: req.webhookId,
      deliveryId,
      eventId: req.eventId,
      eventType: req.eventType,
      method: req.method,
      body: req.body,
      attempt,
      maxAttempts: req.maxAttempts,
      trigger: req.trigger,
      round: req.round,
      workflowId: req.workflowId,
    };
    const reason = cancelReason(webhook, url, urlDisabled);
    if (reason || !webhook || !url) {
      const loggedUrl = url ?? (attempt > 1 ? await loggedUrlOf(spec, req.urlKey) : undefined);
      if (loggedUrl) await logCancelled({ ...spec, url: loggedUrl }, reason ?? '');
      deliveryAttempts.inc({ outcome: 'cancelled', status_class: 'none' });
      throw ApplicationFailure.create({
        type: DELIVERY_CANCELLED,
        message: reason ?? '',
        nonRetryable: true,
        category: ApplicationFailureCategory.BENIGN,
      });
    }
    if (req.rateLimit) {
      const key = slotKeyOf(req.organizationId, req.webhookId, req.urlKey, req.rateLimit.perSecond);
      const later = await withStoreRetry(() => awaitSlot(req.rateLimit!, key, deps.claimSlot, SLOT_LEAD_MS));
      if (later !== null) {
        // Nothing sent, nothing logged: the workflow sleeps until the slot taken and tries again.
        const details: SlotMissedDetails = { slotAt: later, waitMs: Math.max(0, later - Date.now()) };
        throw ApplicationFailure.create({
          type: SLOT_MISSED,
          message: `rate-limit slot missed; the next free one is in ${details.waitMs} ms`,
          details: [details],
          nonRetryable: true,
          category: ApplicationFailureCategory.BENIGN,
        });
      }
    }
    const report = await attemptAndLog(
      {
        ...spec,
        url,
        extraHeaders: webhook.headers ?? [],
        secrets: activeSecrets(webhook.secrets ?? [], new Date()),
      },
      deps.config,
      // A local first attempt that a crash interrupts is run again by the workflow task's retry
      // under the same attempt number and log row id: its in-flight mark is only worth writing
      // once the call is slow enough for someone to look at the logs meanwhile. A rate-limited
      // one must send on its slot, not after a store write of varying length.
      info.isLocal || req.rateLimit ? { markInFlightAfterMs: DEFERRED_MARK_AFTER_MS } : {},
    );
    const { verdict, result } = report;
    if (verdict.kind === 'delivered') {
      try {
        await withStoreRetry(() => afterSuccess({ webhookId: req.webhookId, urlKey: req.urlKey }, deps.config));
      } catch (err) {
        log.warn('failure streak not reset', { webhookId: req.webhookId, error: String(err) });
      }
      return { status: verdict.status, durationMs: result.durationMs };
    }
    // BENIGN: a receiver's failure is an expected outcome, already in the delivery log; the SDK
    // then logs it at DEBUG instead of a stack trace at WARN for every retry.
    throw ApplicationFailure.create({
      type: DELIVERY_FAILED,
      message: verdict.error,
      details: [{ status: verdict.status ?? null, retryAfterMs: verdict.retryAfterMs ?? null, attempt }],
      nonRetryable: verdict.final,
      nextRetryDelay: verdict.retryAfterMs,
      category: ApplicationFailureCategory.BENIGN,
    });
  }
}
