/**
 * A bounded in-process map of entries that count as fresh for a while after they were set. When
 * full, the entry set longest ago goes (a Map iterates in insertion order, and `set` re-inserts).
 * For the small caches that save a store read per request or delivery.
 */
export class RecentEntries<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();

  constructor(private readonly max: number) {}

  /** The value set less than `freshMs` ago, if any. */
  get(key: string, freshMs: number, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    return entry && now - entry.at < freshMs ? entry.value : undefined;
  }

  set(key: string, value: V, now = Date.now()): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, at: now });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
