/**
 * One logged HTTP attempt: mark it in flight, prepare (sign afresh), call, classify, write its log
 * row, clear the mark. Shared by the delivery activity and the API's test sends.
 */
import type { Config } from '../config';
import { isDuplicateKey } from '../db/errors';
import { AttemptInFlight, DeliveryLog, insertLogRow, type LogRowInput } from '../db/deliveryLog';
import type { DeliveryTrigger } from '../shared/delivery';
import type { AttemptOutcome } from '../shared/types';
import { sendHttp, type HttpResult } from './http';
import { classify, prepareRequest, responseExcerpt, type Verdict } from './request';
import { withStoreRetry } from '../db/storeRetry';
import { attemptDuration, deliveryAttempts, statusClassOf } from '../metrics/registry';
import { urlByKey, urlKeyOf } from './target';

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
  trigger: DeliveryTrigger | 'test';
  /** A redelivery's round: part of its rows' and marks' ids (see attemptLogId). */
  round?: string;
  workflowId: string | null;
}

export interface AttemptReport {
  verdict: Verdict;
  result: HttpResult;
  outcome: AttemptOutcome;
}

export type AttemptConfig = Pick<
  Config,
  | 'DELIVERY_TIMEOUT_MS'
  | 'RESPONSE_BODY_LIMIT_BYTES'
  | 'ALLOW_PRIVATE_TARGETS'
  | 'RETRY_AFTER_CAP_MS'
  | 'DELIVERY_PROXY_URL'
  | 'DELIVERY_NO_PROXY'
>;

/** Writes a log row once: a second write of the same attempt (a retry, a late cleanup) is a no-op. */
async function writeLogRow(row: LogRowInput) {
  await withStoreRetry(() => insertLogRow(row));
}

function logBase(spec: Omit<AttemptSpec, 'extraHeaders' | 'secrets' | 'body'>) {
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
    ...(spec.round ? { round: spec.round } : {}),
    workflowId: spec.workflowId,
  };
}

const inFlightId = (deliveryId: string, url: string, attempt: number, round?: string) =>
  `${deliveryId}\n${url}\n${attempt}${round ? `\n${round}` : ''}`;

export interface AttemptOptions {
  /**
   * Write the in-flight mark only if the call is still running after this long (default 0: before
   * the call). Fast calls then cost one store write instead of three.
   */
  markInFlightAfterMs?: number;
}

export async function attemptAndLog(
  spec: AttemptSpec,
  config: AttemptConfig,
  options: AttemptOptions = {},
): Promise<AttemptReport> {
  const now = new Date();
  const prepared = prepareRequest({
    deliveryId: spec.deliveryId,
    body: spec.body,
    extraHeaders: spec.extraHeaders,
    secrets: spec.secrets,
    now,
  });
  const base = logBase(spec);
  const mark = inFlightId(spec.deliveryId, spec.url, spec.attempt, spec.round);
  const writeMark = () =>
    withStoreRetry(() =>
      AttemptInFlight.create({
        _id: mark,
        ...base,
        requestHeaders: prepared.loggedHeaders,
        requestBody: spec.body,
        timestamp: now,
      }).catch((err) => {
        if (!isDuplicateKey(err)) throw err;
      }),
    );
  const markAfterMs = options.markInFlightAfterMs ?? 0;
  let marked: Promise<unknown> | undefined;
  let markTimer: NodeJS.Timeout | undefined;
  if (markAfterMs <= 0) await (marked = writeMark());
  else markTimer = setTimeout(() => (marked = writeMark().catch(() => undefined)), markAfterMs);
  const result = await sendHttp({
    url: spec.url,
    method: spec.method,
    headers: prepared.headers,
    body: spec.body,
    timeoutMs: config.DELIVERY_TIMEOUT_MS,
    responseLimitBytes: config.RESPONSE_BODY_LIMIT_BYTES,
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
    egress: { proxyUrl: config.DELIVERY_PROXY_URL, noProxy: config.DELIVERY_NO_PROXY },
  });
  clearTimeout(markTimer);
  const verdict = classify(result, config.RETRY_AFTER_CAP_MS);
  const last = spec.attempt >= spec.maxAttempts || (verdict.kind === 'failed' && verdict.final);
  const outcome: AttemptOutcome = verdict.kind === 'delivered' ? 'delivered' : last ? 'failed' : 'retrying';
  const statusClass = statusClassOf(result.status);
  deliveryAttempts.inc({ outcome, status_class: statusClass });
  attemptDuration.observe({ status_class: statusClass }, result.durationMs / 1000);
  try {
    await writeLogRow({
      ...base,
      outcome,
      status: result.status ?? null,
      error: verdict.kind === 'failed' ? verdict.error : null,
      durationMs: result.durationMs,
      requestHeaders: prepared.loggedHeaders,
      requestBody: spec.body,
      responseBody: result.status === undefined ? null : responseExcerpt(result.responseBody),
      test: spec.trigger === 'test',
      timestamp: now,
    });
    if (marked) {
      await marked;
      await withStoreRetry(() => AttemptInFlight.deleteOne({ _id: mark }));
    }
  } catch (err) {
    // The request was made: failing now would make Temporal repeat a delivered request. Only a
    // failed attempt (retried anyway) reports the store error; a delivered one keeps its answer.
    if (verdict.kind === 'failed') throw err;
  }
  return { verdict, result, outcome };
}

/** Logs an attempt that was not made because the webhook changed (deleted, disabled, URL removed). */
export async function logCancelled(spec: Omit<AttemptSpec, 'extraHeaders' | 'secrets'>, reason: string) {
  await writeLogRow({
    ...logBase(spec),
    outcome: 'cancelled',
    error: reason,
    requestBody: spec.body,
    test: false,
    timestamp: new Date(),
  });
}

/** Logs a delivery that failed before any request, e.g. because its payload could not be built. */
export async function logNotAttempted(spec: Omit<AttemptSpec, 'extraHeaders' | 'secrets' | 'body'>, error: string) {
  await writeLogRow({ ...logBase(spec), outcome: 'failed', error, test: false, timestamp: new Date() });
}

export const INTERRUPTED = 'attempt interrupted: the worker running it stopped before it finished';

/**
 * Attempts of this delivery to the URL with this key (see `UrlTarget`) marked in flight that never
 * finished (their worker died): each gets its log row, `retrying`, or `failed` when it was the
 * last attempt. Returns the highest attempt number closed (0 for none). Only retries, first
 * attempts run again after a crash, and the failure handler call this. `round`: a redelivery's,
 * whose marks are its own (the original delivery's, or another round's, are not touched).
 */
export async function closeInterruptedAttempts(
  deliveryId: string,
  urlKey: string,
  beforeAttempt: number,
  maxAttempts: number,
  round?: string,
): Promise<number> {
  // Few marks per delivery (its URLs' attempts in flight): matched by key and round here, not in the query.
  const marks = await withStoreRetry(() =>
    AttemptInFlight.find({ deliveryId, attempt: { $lt: beforeAttempt } }).lean(),
  );
  let highest = 0;
  const ours = (mark: { url: string; round?: string | null }) =>
    urlKeyOf(mark.url) === urlKey && (mark.round ?? undefined) === (round || undefined);
  for (const m of marks.filter(ours)) {
    highest = Math.max(highest, m.attempt);
    const { _id, ...fields } = m;
    await writeLogRow({
      ...fields,
      trigger: fields.trigger as LogRowInput['trigger'],
      outcome: m.attempt < maxAttempts ? 'retrying' : 'failed',
      error: INTERRUPTED,
      test: false,
    });
    await withStoreRetry(() => AttemptInFlight.deleteOne({ _id }));
  }
  return highest;
}

/**
 * The URL with this key that an earlier attempt of this delivery logged, for when the webhook no
 * longer has it (deleted, or the URL removed) but its cancellation or failure is still recorded
 * under it. Call after `closeInterruptedAttempts`, which turns marks into rows.
 */
export async function loggedUrlOf(
  delivery: { organizationId: string; webhookId: string; deliveryId: string },
  urlKey: string,
): Promise<string | undefined> {
  const { organizationId, webhookId, deliveryId } = delivery;
  const rows = await withStoreRetry(() =>
    DeliveryLog.find({ organizationId, webhookId, deliveryId }, { url: 1 }).lean(),
  );
  return urlByKey(rows, urlKey);
}
