/**
 * Per-URL rate limits: attempts to a limited URL start at least 1000/per_second ms apart, across
 * every worker and restart, because the reservations live in the store. Time is cut into slots
 * of that length; claiming one inserts its document (RateLimitSlot, `_id` = key and slot
 * number), and the workflow then waits on a durable timer (visible in the Web UI) until shortly
 * before the slot; the attempt waits out the rest in the worker (awaitSlot) and sends on time.
 *
 * Why inserts: FerretDB v1 (PostgreSQL) runs an update as read-then-write, so concurrent `$inc`s
 * or compare-and-set updates on one document lose updates (measured: 300 racing `$inc` claims
 * handed out 4 slots twice). A unique `_id` insert is atomic on every store we run on, without
 * transactions. A claimer reads which slots ahead are taken, inserts the first free one, and on
 * a duplicate key (another worker was quicker) reads again, picking at random among more free
 * slots the more it collided, so racing workers part ways instead of fighting for one slot.
 * Within a worker, claims for one URL queue up instead of racing each other.
 * Workers' clocks are assumed to agree to well within one slot (NTP does).
 */
import { isDuplicateKey } from '../db/errors';
import { RateLimitSlot } from '../db/rateLimitSlot';
import { slotToleranceMs } from '../shared/delivery';

/** The highest `rate_limit.per_second` accepted: above it, slots 1 ms apart are no limit at all. */
export const MAX_RATE_PER_SECOND = 1000;

/** Claims lost this many times in a row fail, and the activity's retry starts over. */
const MAX_CLAIM_ROUNDS = 50;
/** Taken slots read per query while looking for free ones. */
const SCAN_PAGE = 500;
/** Slots older than this are deleted (by an occasional claimer): nothing reads them again. */
const KEEP_PAST_MS = 60_000;

/** The rate is part of the key: slot numbers mean start times only at one rate. */
export const slotKeyOf = (organizationId: string, webhookId: string, urlKey: string, perSecond: number) =>
  `${organizationId}/${webhookId}/${urlKey}/${perSecond}`;

/** The first `count` free slot numbers from `from` on, reading the taken ones page by page. */
async function freeSlots(key: string, from: number, count: number): Promise<number[]> {
  const free: number[] = [];
  let next = from;
  for (;;) {
    const taken = await RateLimitSlot.find({ key, index: { $gte: next } }, { index: 1 })
      .sort({ index: 1 })
      .limit(SCAN_PAGE)
      .lean();
    for (const { index } of taken) {
      while (next < index && free.length < count) free.push(next++);
      if (free.length >= count) return free;
      next = index + 1;
    }
    if (taken.length < SCAN_PAGE) {
      while (free.length < count) free.push(next++);
      return free;
    }
  }
}

/**
 * A claimer, one per worker: claims for one key are made one after the other within it (a few
 * ms each), so only claimers of different workers ever race for a slot.
 */
export function createSlotClaimer() {
  /** The last slot claimed per key, plus one: where the next search starts. */
  const after = new Map<string, number>();
  const queues = new Map<string, Promise<unknown>>();

  async function claimNow(key: string, perSecond: number, clock: () => number): Promise<number> {
    const interval = 1000 / perSecond;
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const now = clock();
      const first = Math.max(Math.ceil(now / interval), after.get(key) ?? 0);
      // After collisions, one of the first few free slots at random, so racing workers part ways.
      const choices = await freeSlots(key, first, Math.min(2 ** round, 16));
      const index = choices[Math.floor(Math.random() * choices.length)];
      try {
        await RateLimitSlot.create({ _id: `${key}#${index}`, key, index });
      } catch (err) {
        if (isDuplicateKey(err)) continue;
        throw err;
      }
      if (index === choices[0]) after.set(key, index + 1);
      if (index % 100 === 0) {
        // Now and then, whoever claims drops the slots of the past minute and before.
        await RateLimitSlot.deleteMany({ key, index: { $lt: Math.floor((now - KEEP_PAST_MS) / interval) } });
      }
      return index * interval;
    }
    throw new Error(`no rate-limit slot after ${MAX_CLAIM_ROUNDS} rounds`);
  }

  /**
   * Reserves a start time for this key at `perSecond` and returns it (epoch ms, never before
   * now): the earliest free slot, or after collisions one of the earliest few.
   */
  return function claimSlot(key: string, perSecond: number, clock: () => number = Date.now): Promise<number> {
    const claim = (queues.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => claimNow(key, perSecond, clock));
    queues.set(key, claim);
    const forget = () => {
      if (queues.get(key) === claim) queues.delete(key);
    };
    claim.then(forget, forget);
    return claim;
  };
}

export type SlotClaimer = ReturnType<typeof createSlotClaimer>;

/**
 * Right before a rate-limited attempt sends: waits in the worker until its slot. An attempt that
 * is after `startBy` (its worker was busier than the lead, or its event loop stalled past the
 * slot while it waited) takes the next free slot instead and waits for that one if it is within
 * `leadMs`. Returns null when the request may go now, or the slot taken (epoch ms) when it lies
 * further out: the workflow then sleeps until it.
 */
export async function awaitSlot(
  limit: { perSecond: number; slotAt?: number; startBy: number },
  key: string,
  claimSlot: SlotClaimer,
  leadMs: number,
  clock: () => number = Date.now,
): Promise<number | null> {
  // Requests from before the lead have no slotAt: they were dispatched at their slot.
  let slotAt = limit.slotAt ?? clock();
  let startBy = limit.startBy;
  for (;;) {
    if (clock() > startBy) {
      slotAt = await claimSlot(key, limit.perSecond, clock);
      if (slotAt - clock() > leadMs) return slotAt;
      startBy = slotAt + slotToleranceMs(limit.perSecond);
    }
    const wait = slotAt - clock();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (clock() <= startBy) return null;
  }
}
