import { RefusedEvents } from '../../../src/api/refusedEvents';

describe('RefusedEvents', () => {
  test('keys an event post by caller and event id, and holds no API key', () => {
    const key = RefusedEvents.keyOf('Bearer secret-key', 'evt-1');
    expect(key).toBeDefined();
    expect(key).not.toContain('secret');
    expect(RefusedEvents.keyOf('Bearer secret-key', 'evt-1')).toBe(key);
    expect(RefusedEvents.keyOf('Bearer other-key', 'evt-1')).not.toBe(key);
    expect(RefusedEvents.keyOf('Bearer secret-key', 'evt-2')).not.toBe(key);
    // Nothing to tell apart: such a post is treated as new (and fails validation or auth anyway).
    expect(RefusedEvents.keyOf(undefined, 'evt-1')).toBeUndefined();
    expect(RefusedEvents.keyOf('Bearer secret-key', 42)).toBeUndefined();
  });

  test('remembers a refused key until it is let in, or for its time', () => {
    const refused = new RefusedEvents(10, 60_000);
    refused.remember('a', 0);
    expect(refused.has('a', 59_999)).toBe(true);
    expect(refused.has('a', 60_000)).toBe(false);
    expect(refused.has('b', 0)).toBe(false);
    refused.forget('a');
    expect(refused.has('a', 1)).toBe(false);
  });

  test('holds at most its bound, dropping the oldest, and drops expired keys as new ones come', () => {
    const refused = new RefusedEvents(3, 60_000);
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) refused.remember(key, i);
    expect(refused.size).toBe(3);
    expect(refused.has('a', 10)).toBe(false);
    expect(refused.has('d', 10)).toBe(true);
    // Refused again: it is the newest now, so 'c' goes first.
    refused.remember('b', 20);
    refused.remember('e', 21);
    expect(['b', 'c', 'd', 'e'].map((k) => refused.has(k, 22))).toEqual([true, false, true, true]);
    refused.remember('f', 100_000);
    expect(refused.size).toBe(1);
  });
});
