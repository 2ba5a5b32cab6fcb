/**
 * Eager workflow starts only while Temporal answers starts quickly. A start given up at its
 * deadline may still have been made, and then its first workflow task, sent back in the answer no
 * one reads, is lost: the run waits out its workflow task timeout (30 s) before the task is sent
 * again. So once a start has taken SLOW_START_MS (ended or not), starts go through the task queue,
 * where a task cannot be lost that way, for PAUSE_MS. Measured in a storm of 150 events/s on 2
 * cores: 145 answers after 5 s and about 250-500 starts given up without it; none after 5 s and
 * about 100 with it. At 1 s, though, starts slowed only by a busy burst closed it often: a burst of
 * 5,000 on 2 cores started 1,800-3,000 runs eagerly (1.64 cores busy); at 1.5 s, 4,221 (1.75 cores
 * busy), and that storm still had every answer within 5 s (p99 1.4 s).
 */
const SLOW_START_MS = 1500;
const PAUSE_MS = 10_000;

export class EagerStartGate {
  private pausedUntil = 0;

  /** Whether a start beginning now may ask for its first task eagerly. */
  allows(now = Date.now()): boolean {
    return now >= this.pausedUntil;
  }

  /**
   * A start begins now. The gate closes as soon as it has taken SLOW_START_MS, so that a Temporal
   * that stopped answering does not take eager starts until the first of them gives up. Call the
   * returned function when the start has ended (made, refused or given up).
   */
  track(startedAt = Date.now()): (now?: number) => void {
    const slow = setTimeout(() => this.pause(startedAt + SLOW_START_MS), SLOW_START_MS);
    slow.unref();
    return (now = Date.now()) => {
      clearTimeout(slow);
      if (now - startedAt > SLOW_START_MS) this.pause(now);
    };
  }

  private pause(now: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + PAUSE_MS);
  }
}
