/**
 * How late this process's worker starts on the events its API accepted: the time from acceptance
 * to the run's first step (recording and planning the event), over the last moment. Past
 * MAX_EVENT_LAG_MS the API refuses new events (503 with Retry-After): the work it has already
 * taken is then delivered within about that long, and once a storm ends latency is back to
 * normal within about that long too, instead of after the whole backlog the storm left.
 *
 * A reading stands for READING_FRESH_MS only: once the backlog has drained no run plans anything,
 * and stale readings must not keep refusing events.
 */
const READING_FRESH_MS = 1000;

export class EventLag {
  private peakMs = 0;
  private peakAt = 0;

  /** The run of an event accepted at `acceptedAt` (epoch ms) is taking its first step now. */
  record(acceptedAt: number, now = Date.now()): void {
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
}
