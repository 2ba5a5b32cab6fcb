/** How many times something happened per second over the last `windowMs`. */
export class RecentRate {
  /** When each happened, oldest first, within the window. */
  private readonly times: number[] = [];

  constructor(private readonly windowMs: number) {}

  add(now = Date.now()): void {
    this.times.push(now);
    this.dropOld(now);
  }

  perSecond(now = Date.now()): number {
    this.dropOld(now);
    return (this.times.length * 1000) / this.windowMs;
  }

  private dropOld(now: number): void {
    let old = 0;
    while (old < this.times.length && now - this.times[old] >= this.windowMs) old++;
    if (old) this.times.splice(0, old);
  }
}
