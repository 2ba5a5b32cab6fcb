/**
 * Failed API-key attempts, counted per client address: after `AUTH_FAILURE_LIMIT` answers of 401
 * within `AUTH_FAILURE_WINDOW_MS`, the address is answered 429 (with `Retry-After`) on every API
 * route until its window ends, whatever key it sends, so keys cannot be guessed at speed.
 */
import type { RequestHandler } from 'express';
import type { Config } from '../config';
import { errorBody } from './errors';

/** Addresses tracked at most; beyond it, expired windows are dropped, then the oldest. */
const MAX_TRACKED = 100_000;

export class FailureCounter {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds until the address may try again, or 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    const w = this.windows.get(address);
    if (!w || now >= w.endsAt) return 0;
    return w.count >= this.limit ? w.endsAt - now : 0;
  }

  fail(address: string, now = Date.now()): void {
    let w = this.windows.get(address);
    if (!w || now >= w.endsAt) {
      this.windows.delete(address);
      if (this.windows.size >= MAX_TRACKED) this.prune(now);
      w = { count: 0, endsAt: now + this.windowMs };
      this.windows.set(address, w);
    }
    w.count++;
  }

  private prune(now: number): void {
    for (const [address, w] of this.windows) if (now >= w.endsAt) this.windows.delete(address);
    // Insertion order: the first is the window opened longest ago.
    if (this.windows.size >= MAX_TRACKED) this.windows.delete(this.windows.keys().next().value!);
  }
}

/** Mounted before the API routes: refuses blocked addresses, and counts every 401 answered. */
export function limitAuthFailures(
  config: Pick<Config, 'AUTH_FAILURE_LIMIT' | 'AUTH_FAILURE_WINDOW_MS'>,
): RequestHandler {
  const counter = new FailureCounter(config.AUTH_FAILURE_LIMIT, config.AUTH_FAILURE_WINDOW_MS);
  return (req, res, next) => {
    if (config.AUTH_FAILURE_LIMIT === 0 || !req.path.startsWith('/v3/')) return next();
    const address = req.socket.remoteAddress ?? '';
    const wait = counter.blockedFor(address);
    if (wait > 0) {
      res.set('Retry-After', String(Math.ceil(wait / 1000)));
      res.status(429).json(errorBody(429, 'too many requests with a missing or invalid API key; try again later'));
      return;
    }
    res.on('finish', () => {
      if (res.statusCode === 401) counter.fail(address);
    });
    next();
  };
}
