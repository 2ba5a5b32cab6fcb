import type { ErrorRequestHandler } from 'express';
import { isStoreUnreachable } from '../db/errors';
import { isTransientStoreError } from '../db/storeRetry';
import { storeErrors } from '../metrics/registry';
import { isTemporalUnavailable } from '../temporal/client';
import { TemplateEngineUnavailable } from '../templates/engine';
import { AppError, type ErrorKind, type FieldError } from '../shared/errors';

/** What a 503 answer asks the client to wait before trying again (`Retry-After`, in seconds). */
export const RETRY_AFTER_SECONDS = 3;

/** The HTTP status of each kind of domain error. */
const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  unprocessable: 422,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
};

export function errorBody(status: number, message: string, errors?: FieldError[]) {
  return { meta: { status, error_message: message, ...(errors?.length ? { errors } : {}) } };
}

/**
 * The single error middleware: AppErrors as they are, body-parser errors mapped, a busy or
 * unreachable store or Temporal, or a failing template engine 503, the rest 500. Every 503 is passing, so it says when to try again.
 */
/** How often each kind of 503 is logged at most: in a storm every refused request would log its stack. */
const BUSY_LOG_EVERY_MS = 10_000;

/** `log`, but each message at most once per `everyMs`, saying how many were left out before it. */
function oncePerWhile(log: (msg: string, err: unknown) => void, everyMs: number) {
  const last = new Map<string, { at: number; left: number }>();
  return (msg: string, err: unknown) => {
    const now = Date.now();
    const seen = last.get(msg);
    if (seen && now - seen.at < everyMs) {
      seen.left++;
      return;
    }
    log(seen?.left ? `${msg} (${seen.left} more since the last such line)` : msg, err);
    last.set(msg, { at: now, left: 0 });
  };
}

export function errorMiddleware(log: (msg: string, err: unknown) => void): ErrorRequestHandler {
  const logBusy = oncePerWhile(log, BUSY_LOG_EVERY_MS);
  return (err, _req, res, _next) => {
    // Already answered (the request deadline did): nothing more to say.
    if (res.headersSent) return;
    let status = 500;
    let message = 'internal error';
    let errors: FieldError[] | undefined;
    if (err instanceof AppError) {
      status = STATUS_OF[err.kind];
      ({ message, errors } = err);
    } else if (err?.type === 'entity.too.large') {
      status = 413;
      message = `request body is larger than the ${err.limit} byte limit`;
    } else if (err?.type === 'entity.parse.failed') {
      status = 400;
      message = `malformed JSON: ${err.message}`;
    } else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      status = err.status;
      message = err.message;
    } else if (isTransientStoreError(err) || isStoreUnreachable(err)) {
      status = 503;
      message = 'the store is busy or unreachable; try again shortly';
      storeErrors.inc({ stage: 'answered_503' });
      logBusy('store unavailable', err);
    } else if (isTemporalUnavailable(err)) {
      status = 503;
      message = 'Temporal is unreachable; try again shortly';
      logBusy('temporal unavailable', err);
    } else if (err instanceof TemplateEngineUnavailable) {
      status = 503;
      message = `the template engine is unavailable: ${err.message}`;
      logBusy('template engine unavailable', err);
    } else {
      log('unhandled error', err);
    }
    if (status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(status).json(errorBody(status, message, errors));
  };
}
