/**
 * The slot reservations in the real store (FerretDB v1 here, whose updates are not atomic under
 * races): concurrent claims never share a slot, no slot is handed out before now, and a crowd
 * of claimers still fills the schedule densely.
 */
import crypto from 'node:crypto';
import { connectDatabase, disconnectDatabase } from '../../../src/db/connect';
import { RateLimitSlot } from '../../../src/db/rateLimitSlot';
import { createSlotClaimer } from '../../../src/rateLimit/slots';
import { testConfig } from '../../support/harness';

/** Sorted slot times, checked to be at least one interval apart. */
function expectSpaced(slots: number[], intervalMs: number): number[] {
  const sorted = [...slots].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((t, i) => t - sorted[i]);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(intervalMs - 1e-6);
  return sorted;
}

describe('claimSlot', () => {
  beforeAll(async () => {
    const config = testConfig();
    await connectDatabase(config.MONGODB_URI, config.STORE_POSTGRES_URL);
    await RateLimitSlot.init();
  });
  afterAll(async () => {
    await disconnectDatabase();
  });

  test('when 300 claims race on one URL from two workers, then each gets its own slot, none before now, and the schedule has few gaps', async () => {
    const key = `race-${crypto.randomUUID()}`;
    const workers = [createSlotClaimer(), createSlotClaimer()];
    const started = Date.now();
    const t0 = performance.now();
    const slots = await Promise.all(Array.from({ length: 300 }, (_, i) => workers[i % 2](key, 50)));
    const ms = performance.now() - t0;
    const sorted = expectSpaced(slots, 20);
    expect(sorted[0]).toBeGreaterThanOrEqual(started);
    const span = sorted[299] - sorted[0];
    console.log(JSON.stringify({ claims: 300, tookMs: Math.round(ms), spanMs: span, denseSpanMs: 299 * 20 }));
    // Slots are taken from now on as claims go by, so the schedule is at most as sparse as the
    // claiming was slow; collisions leave only a few slots free on top of that.
    expect(span).toBeLessThan(Math.max(ms, 299 * 20) + 299 * 20);
    expect(await RateLimitSlot.countDocuments({ key })).toBe(300);
  });

  test('when nothing is reserved ahead (an idle URL), then the slot is the next one from now, and the one after it follows', async () => {
    const key = `idle-${crypto.randomUUID()}`;
    const claimSlot = createSlotClaimer();
    const now = Date.now() + 3_600_000; // a clock of its own, far from the other claims
    const first = await claimSlot(key, 10, () => now);
    expect(first).toBeGreaterThanOrEqual(now);
    expect(first).toBeLessThan(now + 100);
    expect(await claimSlot(key, 10, () => now)).toBeCloseTo(first + 100, 6);
    const later = now + 5_000;
    const afterIdle = await claimSlot(key, 10, () => later);
    expect(afterIdle).toBeGreaterThanOrEqual(later);
    expect(afterIdle).toBeLessThan(later + 100);
  });

  test('when eight workers race, each with claims queued, then still no slot is shared', async () => {
    const key = `eight-${crypto.randomUUID()}`;
    const workers = Array.from({ length: 8 }, () => createSlotClaimer());
    const slots = await Promise.all(Array.from({ length: 160 }, (_, i) => workers[i % 8](key, 100)));
    expectSpaced(slots, 10);
    expect(new Set(slots).size).toBe(160);
  });
});
