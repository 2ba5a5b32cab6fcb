import { ApplicationFailure, Context, type Info } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import type { Config } from '../config';
import { findOwnedById } from '../db/byId';
import { Webhook } from '../db/webhook';
import { attemptAndLog, closeInterruptedAttempts, logCancelled, loggedUrlOf } from '../delivery/attempt';
import { activeSecrets, deliveryIdOf } from '../delivery/signing';
import { withStoreRetry } from '../db/storeRetry';
import { urlByKey } from '../delivery/target';
import { DELIVERY_CANCELLED, DELIVERY_FAILED, type DeliveryRequest } from '../shared/delivery';

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

/** How long a local first attempt runs before it is marked in flight (see attemptAndLog). */
const LOCAL_ATTEMPT_MARK_AFTER_MS = 1000;

export function cancelReason(webhook: { enabled?: boolean | null } | null, url: string | undefined): string | null {
  if (!webhook) return 'webhook deleted';
  if (!webhook.enabled) return 'webhook disabled';
  if (!url) return 'URL removed from the webhook';
  return null;
}

export function deliveryActivities(deps: { config: Config }) {
  return {
    /**
     * One HTTP attempt of one (webhook, URL) delivery; Temporal retries it (maximumAttempts =
     * max_retry + 1, backoff from the retry profile). Re-reads the webhook first and finds the URL
     * by its key: deleted, disabled or URL removed → logs `cancelled` and throws a non-retryable
     * DeliveryCancelled (when the webhook no longer has the URL, the row goes under the URL an
     * earlier attempt logged; a first attempt has none, so it logs nothing). Headers and
     * signatures are made afresh; every attempt is logged (marked in flight first, so a worker crash
     * leaves a trace that the next attempt closes as interrupted; a local first attempt is marked
     * only once it has run for a second, see LOCAL_ATTEMPT_MARK_AFTER_MS). 2xx returns; anything else throws a
     * retryable DeliveryFailed, with `nextRetryDelay` from a capped Retry-After on 429/503.
     */
    async deliverAttempt(req: DeliveryRequest): Promise<AttemptAnswer> {
      const context = Context.current();
      // A regular attempt tells Temporal it is alive (a local one lives inside its workflow task).
      const heartbeat = context.info.isLocal ? undefined : setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        return await deliverAttemptOnce(req, context.info);
      } finally {
        clearInterval(heartbeat);
      }
    },
  };

  /** One attempt, as deliverAttempt describes it. */
  async function deliverAttemptOnce(req: DeliveryRequest, info: Info): Promise<AttemptAnswer> {
    let attempt = info.attempt + (req.firstAttempt ?? 1) - 1;
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
    const webhook = await withStoreRetry(() =>
      findOwnedById(Webhook, req.webhookId, req.organizationId, { enabled: 1, urls: 1, headers: 1, secrets: 1 }),
    );
    const url = urlByKey(webhook?.urls, req.urlKey);
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
    const reason = cancelReason(webhook, url);
    if (reason || !webhook || !url) {
      const loggedUrl = url ?? (attempt > 1 ? await loggedUrlOf(spec, req.urlKey) : undefined);
      if (loggedUrl) await logCancelled({ ...spec, url: loggedUrl }, reason ?? '');
      throw ApplicationFailure.create({
        type: DELIVERY_CANCELLED,
        message: reason ?? '',
        nonRetryable: true,
        category: ApplicationFailureCategory.BENIGN,
      });
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
      // once the call is slow enough for someone to look at the logs meanwhile.
      info.isLocal ? { markInFlightAfterMs: LOCAL_ATTEMPT_MARK_AFTER_MS } : {},
    );
    const { verdict, result } = report;
    if (verdict.kind === 'delivered') return { status: verdict.status, durationMs: result.durationMs };
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
