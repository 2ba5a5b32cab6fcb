/**
 * The Retry-After given to refused event posts: about how long a refused event will wait for its
 * turn, not a constant. In a storm, thousands of refused events each posted again every 3 s were
 * mostly refused again, and answering them took the CPU the deliveries needed (storm of 90/s for
 * 60 s on 2 cores: 99,141 refusals, 1,013 answers after 5 s).
 *
 * Once a second: the events waiting at producers are about (refusals per second × the mean wait
 * they were given); they are let in at the accepted rate; so the wait is about waiting ÷ accepted
 * rate. The advice moves half-way there each second (kept between the base and MAX_SECONDS). Each
 * answer gets between half of it and all of it, at random, so that reposts spread out instead of
 * arriving together, and none waits past the estimate: with up to 1.5 times it, the last producers
 * of a storm waited up to 45 s while the service had nothing to do.
 */
import { eventRetryAfter } from '../metrics/registry';
import { RETRY_AFTER_SECONDS } from './errors';

const MAX_SECONDS = 30;
const TICK_MS = 1000;
/** Weight of the newest second in the accepted rate: it must outlast a second in which nothing was let in. */
const RATE_WEIGHT = 0.2;
/** An answer's share of the advice: uniform between these; MEAN_SHARE is their mean. */
const LEAST_SHARE = 0.5;
const MEAN_SHARE = (LEAST_SHARE + 1) / 2;

export class RetryAdvice {
  private seconds = RETRY_AFTER_SECONDS;
  private refused = 0;
  private accepted = 0;
  private acceptedPerSecond = 0;
  private tickAt: number;

  constructor(
    now = Date.now(),
    private readonly random: () => number = Math.random,
  ) {
    this.tickAt = now;
  }

  /** An event post let through. */
  letIn(now = Date.now()): void {
    this.tick(now);
    this.accepted++;
  }

  /** An event post refused: the seconds to tell it to wait. */
  refuse(now = Date.now()): number {
    this.tick(now);
    this.refused++;
    return Math.max(1, Math.round(this.seconds * (LEAST_SHARE + (1 - LEAST_SHARE) * this.random())));
  }

  /** The advice before jitter, in seconds: the longest wait an answer is given. */
  current(now = Date.now()): number {
    this.tick(now);
    return this.seconds;
  }

  private tick(now: number): void {
    const elapsed = now - this.tickAt;
    if (elapsed < TICK_MS) return;
    const perSecond = (n: number) => (n * 1000) / elapsed;
    const acceptedRate = perSecond(this.accepted);
    this.acceptedPerSecond = this.acceptedPerSecond
      ? (1 - RATE_WEIGHT) * this.acceptedPerSecond + RATE_WEIGHT * acceptedRate
      : acceptedRate;
    const waiting = perSecond(this.refused) * this.seconds * MEAN_SHARE;
    const target = Math.min(MAX_SECONDS, Math.max(RETRY_AFTER_SECONDS, waiting / Math.max(1, this.acceptedPerSecond)));
    const halfWay = (this.seconds + target) / 2;
    this.seconds = target > this.seconds ? Math.ceil(halfWay) : Math.floor(halfWay);
    eventRetryAfter.set(this.seconds);
    this.refused = 0;
    this.accepted = 0;
    this.tickAt = now;
  }
}
