/**
 * The event posts this process refused lately, by caller and event id, so that admission control
 * knows a producer's repost from an event posted for the first time (see ./admission.ts: new events
 * go first). Bounded in count and age: a producer that gave up leaves nothing behind for long, and
 * a flood of ids cannot grow the process. Keys are hashes, so no API key is held here.
 */
import crypto from 'node:crypto';

/** Longer than any Retry-After the API gives (30 s) many times over. */
const REMEMBER_MS = 10 * 60_000;
const MAX_ENTRIES = 200_000;

export class RefusedEvents {
  /** When each key was last refused; insertion order is age order (re-refused keys move last). */
  private readonly refusedAt = new Map<string, number>();

  constructor(
    private readonly maxEntries = MAX_ENTRIES,
    private readonly rememberMs = REMEMBER_MS,
  ) {}

  /** The key of an event post: undefined without a caller or a string event id (it will fail validation). */
  static keyOf(authorization: string | undefined, eventId: unknown): string | undefined {
    if (!authorization || typeof eventId !== 'string') return undefined;
    return crypto.createHash('sha1').update(authorization).update('\0').update(eventId).digest('base64');
  }

  remember(key: string, now = Date.now()): void {
    this.refusedAt.delete(key);
    this.refusedAt.set(key, now);
    for (const [oldest, at] of this.refusedAt) {
      if (this.refusedAt.size <= this.maxEntries && now - at < this.rememberMs) break;
      this.refusedAt.delete(oldest);
    }
  }

  /** Refused here within the last REMEMBER_MS. */
  has(key: string, now = Date.now()): boolean {
    const at = this.refusedAt.get(key);
    return at !== undefined && now - at < this.rememberMs;
  }

  /** Let in: its next post (a repeat) is nothing to hold back. */
  forget(key: string): void {
    this.refusedAt.delete(key);
  }

  get size(): number {
    return this.refusedAt.size;
  }
}
