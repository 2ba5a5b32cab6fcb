/**
 * How late this process's worker starts on the events its API accepted: the time from acceptance
 * to the run's first step (recording and planning the event), over the last moment. Past
 * MAX_EVENT_LAG_MS the API refuses new events (503 with Retry-After): the work it has already
 * taken is then delivered within about that long, rather than after a backlog inside the service.
 * (What it refused, producers hold; src/api/newEventsFirst.ts keeps their reposts from delaying
 * the events that come after a storm.)
 *
 * That reading looks back: it is the wait of events accepted a while ago. Once it is past the
 * limit, every event still queued was accepted while the queue was long, so it stays past the
 * limit until the queue is empty, and refusing until then let the queue run dry while refused
 * producers waited out their Retry-After (a burst of 5,000 on 2 cores: the CPU fell to 1.4 cores
 * every 15-20 s). So the API also reads the wait ahead: the events it accepted that have not
 * started yet, over the rate they start at (`expectedWaitMs`), and refuses only while both are
 * past the limit. The queue then stays about MAX_EVENT_LAG_MS long instead of running dry.
 *
 * A reading stands for READING_FRESH_MS only: once the backlog has drained no run plans anything,
 * and stale readings must not keep refusing events.
 */
import { RecentRate } from '../shared/recentRate';

const READING_FRESH_MS = 1000;
/** The start rate is counted over this long. */
const RATE_WINDOW_MS = 2000;
/**
 * An accepted event not started in this process after this long is no longer counted as waiting
 * here: another worker took it (several API+worker processes share a task queue), or its start
 * failed without saying so. Its lateness still shows in the lag reading of whoever starts it.
 */
const FORGET_AFTER_MS = 60_000;

export class EventLag {
  private peakMs = 0;
  private peakAt = 0;
  /** Accepted here and not yet started, by workflow id: when each was accepted (insertion order). */
  private readonly waiting = new Map<string, number>();
  /** How often this process's runs take their first step. */
  private readonly starts = new RecentRate(RATE_WINDOW_MS);

  /** An event's start is being asked of Temporal now: it waits until its run's first step. */
  accepting(workflowId: string, now = Date.now()): void {
    this.waiting.set(workflowId, now);
    for (const [id, at] of this.waiting) {
      if (now - at < FORGET_AFTER_MS) break;
      this.waiting.delete(id);
    }
  }

  /** The start was refused or failed: nothing waits for it here. */
  notAccepted(workflowId: string): void {
    this.waiting.delete(workflowId);
  }

  /** The run of an event accepted at `acceptedAt` (epoch ms) is taking its first step now. */
  record(acceptedAt: number, workflowId?: string, now = Date.now()): void {
    if (workflowId !== undefined) this.waiting.delete(workflowId);
    this.starts.add(now);
    const lag = Math.max(0, now - acceptedAt);
    // The peak of the last second: one event started on at once (a free slot took it eagerly)
    // does not hide the backlog behind it.
    if (lag >= this.peakMs || now - this.peakAt >= READING_FRESH_MS) {
      this.peakMs = lag;
      this.peakAt = now;
    }
  }

  /** The highest lag in ms recorded within the last second, or 0 when there is none. */
  current(now = Date.now()): number {
    return now - this.peakAt < READING_FRESH_MS ? this.peakMs : 0;
  }

  /** How long the oldest accepted event still waiting here for its first step has waited, in ms. */
  oldestWaitMs(now = Date.now()): number {
    for (const acceptedAt of this.waiting.values()) return now - acceptedAt;
    return 0;
  }

  /** About how long an event accepted now would wait for its first step: Infinity when none start. */
  expectedWaitMs(now = Date.now()): number {
    if (this.waiting.size === 0) return 0;
    const perSecond = this.starts.perSecond(now);
    return perSecond === 0 ? Infinity : (this.waiting.size * 1000) / perSecond;
  }

  /** Runs taking their first step here per second, lately: what this process's worker keeps up with. */
  startsPerSecond(now = Date.now()): number {
    return this.starts.perSecond(now);
  }
}
