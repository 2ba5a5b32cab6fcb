/**
 * How many times something happened per second over the last `windowMs`, counted in buckets
 * (a twentieth of the window each), so that a flood of events costs the same per event as a trickle.
 */
const BUCKETS = 20;

export class RecentRate {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private readonly bucketMs: number;
  /** The newest bucket counted into, as floor(time / bucketMs). */
  private newest = -Infinity;

  constructor(private readonly windowMs: number) {
    this.bucketMs = windowMs / BUCKETS;
  }

  add(now = Date.now()): void {
    const bucket = this.advance(now);
    if (bucket > this.newest - BUCKETS) this.counts[bucket % BUCKETS]++;
  }

  perSecond(now = Date.now()): number {
    this.advance(now);
    return (this.counts.reduce((a, b) => a + b, 0) * 1000) / this.windowMs;
  }

  /** Empties the buckets that fell out of the window by `now`; returns now's bucket. */
  private advance(now: number): number {
    const bucket = Math.floor(now / this.bucketMs);
    if (bucket <= this.newest) return bucket;
    const stale = Math.min(bucket - this.newest, BUCKETS);
    for (let i = 0; i < stale; i++) this.counts[(bucket - i) % BUCKETS] = 0;
    this.newest = bucket;
    return bucket;
  }
}
