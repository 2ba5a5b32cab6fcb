/**
 * One logged HTTP attempt: write a `pending` row, prepare (sign afresh), call, classify, finalize
 * the row. Shared by the delivery activity and the API's test sends.
 */
import type { Config } from '../config';
import { DeliveryLog } from '../db/deliveryLog';
import type { AttemptOutcome } from '../shared/types';
import { sendHttp, type HttpResult } from './http';
import { classify, prepareRequest, responseExcerpt, type Verdict } from './request';
import { withStoreRetry } from './storeRetry';

export interface AttemptSpec {
  organizationId: string;
  webhookId: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  url: string;
  method: string;
  body: string;
  attempt: number;
  maxAttempts: number;
  extraHeaders: readonly { name?: string | null; value?: string | null }[];
  secrets: readonly string[];
  trigger: 'event' | 'manual' | 'test';
  workflowId: string | null;
}

export interface AttemptReport {
  verdict: Verdict;
  result: HttpResult;
  outcome: AttemptOutcome;
}

type AttemptConfig = Pick<
  Config,
  'DELIVERY_TIMEOUT_MS' | 'RESPONSE_BODY_LIMIT_BYTES' | 'ALLOW_PRIVATE_TARGETS' | 'RETRY_AFTER_CAP_MS'
>;

function logBase(spec: AttemptSpec) {
  return {
    organizationId: spec.organizationId,
    webhookId: spec.webhookId,
    deliveryId: spec.deliveryId,
    eventId: spec.eventId,
    eventType: spec.eventType,
    url: spec.url,
    method: spec.method,
    attempt: spec.attempt,
    maxAttempts: spec.maxAttempts,
    trigger: spec.trigger,
    test: spec.trigger === 'test',
    workflowId: spec.workflowId,
  };
}

export async function attemptAndLog(spec: AttemptSpec, config: AttemptConfig): Promise<AttemptReport> {
  const now = new Date();
  const prepared = prepareRequest({
    deliveryId: spec.deliveryId,
    body: spec.body,
    extraHeaders: spec.extraHeaders,
    secrets: spec.secrets,
    now,
  });
  const row = await withStoreRetry(() =>
    DeliveryLog.create({
      ...logBase(spec),
      outcome: 'pending',
      requestHeaders: prepared.loggedHeaders,
      requestBody: spec.body,
      timestamp: now,
    }),
  );
  const result = await sendHttp({
    url: spec.url,
    method: spec.method,
    headers: prepared.headers,
    body: spec.body,
    timeoutMs: config.DELIVERY_TIMEOUT_MS,
    responseLimitBytes: config.RESPONSE_BODY_LIMIT_BYTES,
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
  });
  const verdict = classify(result, config.RETRY_AFTER_CAP_MS);
  const outcome: AttemptOutcome =
    verdict.kind === 'delivered' ? 'delivered' : spec.attempt < spec.maxAttempts ? 'retrying' : 'failed';
  const finalize = () =>
    DeliveryLog.updateOne(
      { _id: row._id },
      {
        $set: {
          outcome,
          status: result.status ?? null,
          error: verdict.kind === 'failed' ? verdict.error : null,
          durationMs: result.durationMs,
          responseBody: result.status === undefined ? null : responseExcerpt(result.responseBody),
        },
      },
    );
  try {
    await withStoreRetry(finalize, 12);
  } catch (err) {
    // The request was made: failing now would make Temporal repeat a delivered request. Only a
    // failed attempt (retried anyway) reports the store error; a delivered one keeps its answer.
    if (verdict.kind === 'failed') throw err;
  }
  return { verdict, result, outcome };
}

/** Logs an attempt that was not made because the webhook changed (deleted, disabled, URL removed). */
export async function logCancelled(spec: Omit<AttemptSpec, 'extraHeaders' | 'secrets'>, reason: string) {
  await withStoreRetry(() =>
    DeliveryLog.create({
      ...logBase({ ...spec, extraHeaders: [], secrets: [] }),
      outcome: 'cancelled',
      error: reason,
      requestBody: spec.body,
      timestamp: new Date(),
    }),
  );
}

export const INTERRUPTED = 'attempt interrupted: the worker running it stopped before it finished';

/**
 * Rows left `pending` by attempts of this delivery that never finished (their worker died): each
 * becomes `retrying`, or `failed` when it was the last attempt.
 */
export async function closeInterruptedAttempts(
  deliveryId: string,
  url: string,
  beforeAttempt: number,
  maxAttempts: number,
): Promise<void> {
  const pending = { deliveryId, url, outcome: 'pending' };
  await withStoreRetry(() =>
    DeliveryLog.updateMany(
      { ...pending, attempt: { $lt: Math.min(beforeAttempt, maxAttempts) } },
      { $set: { outcome: 'retrying', error: INTERRUPTED } },
    ),
  );
  await withStoreRetry(() =>
    DeliveryLog.updateMany(
      { ...pending, attempt: { $lt: beforeAttempt } },
      { $set: { outcome: 'failed', error: INTERRUPTED } },
    ),
  );
}
