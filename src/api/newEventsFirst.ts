/**
 * Which event posts are reposts to hold to MAX_REPOST_LAG_MS (./admission.ts): a repost of an event
 * refused here before, while new events come at under half the rate this process's worker starts
 * runs at, and producers hold more than about two seconds of its work. Then new events would wait
 * behind reposts, and holding those to a short queue lets new ones through at normal latency (after
 * a storm). Coming as fast, new events make the queue themselves, and a short queue would only idle
 * the worker; a few producers each holding one event (a burst) are no backlog to jump, and holding
 * them back would idle them and the worker with them (a burst of 5,000 from 32 producers: about
 * 10% slower).
 */
import { RecentRate } from '../shared/recentRate';
import { RefusedEvents } from './refusedEvents';

/** Reposts are held back while new events come at under this share of the rate runs start at. */
const NEW_EVENT_SHARE = 0.5;
/** Reposts are held back only while producers hold more than this many seconds of starts. */
const HELD_SECONDS_WORTH_JUMPING = 2;
/** New events per second are counted over this long. */
const RATE_WINDOW_MS = 2000;
/** How long the highest start rate is remembered when telling a stall from a storm. */
const STARTS_PEAK_MS = 10_000;

export class NewEventsFirst {
  private readonly refused = new RefusedEvents();
  private readonly newEvents = new RecentRate(RATE_WINDOW_MS);
  private startsPeak = { perSecond: 0, at: 0 };

  /** An event post arrives (`key`: RefusedEvents.keyOf): whether it is a repost to hold back now. */
  holdsBack(key: string | undefined, startsPerSecond: number, now = Date.now()): boolean {
    this.noteStarts(startsPerSecond, now);
    if (key === undefined || !this.refused.has(key, now)) {
      this.newEvents.add(now);
      return false;
    }
    return this.holding(startsPerSecond, now);
  }

  /**
   * Whether a new event refused now met a stall of the worker, not the storm: producers hold a
   * backlog, and new events come at under half the rate runs started at lately (the highest over
   * STARTS_PEAK_MS, so that a stall, which refuses new events too, does not lower it).
   */
  stalled(startsPerSecond: number, now = Date.now()): boolean {
    this.noteStarts(startsPerSecond, now);
    return this.holding(this.startsPeak.perSecond, now);
  }

  private noteStarts(startsPerSecond: number, now: number): void {
    if (startsPerSecond >= this.startsPeak.perSecond || now - this.startsPeak.at > STARTS_PEAK_MS) {
      this.startsPeak = { perSecond: startsPerSecond, at: now };
    }
  }

  private holding(startsPerSecond: number, now: number): boolean {
    return (
      this.newEvents.perSecond(now) < NEW_EVENT_SHARE * startsPerSecond &&
      this.refused.size > HELD_SECONDS_WORTH_JUMPING * startsPerSecond
    );
  }

  refusedNow(key: string | undefined, now = Date.now()): void {
    if (key !== undefined) this.refused.remember(key, now);
  }

  /** Let in: a repeat of it is nothing to hold back. */
  letIn(key: string | undefined): void {
    if (key !== undefined) this.refused.forget(key);
  }
}
