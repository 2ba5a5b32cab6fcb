import { NewEventsFirst } from '../../../src/api/newEventsFirst';

/** Producers hold `n` refused events (keys held-0…), refused at time 0. */
function holding(n: number): NewEventsFirst {
  const first = new NewEventsFirst();
  for (let i = 0; i < n; i++) first.refusedNow(`held-${i}`, 0);
  return first;
}

describe('NewEventsFirst', () => {
  test('holds back a repost while new events come at under half the rate runs start at and producers hold over 2 s of starts', () => {
    const first = holding(21);
    // 4 new events in the last 2 s (2/s) against runs starting at 10/s; 21 held > 2 s × 10/s.
    for (let t = 0; t < 4; t++) expect(first.holdsBack(`new-${t}`, 10, 1000 + t * 100)).toBe(false);
    expect(first.holdsBack('held-0', 10, 1500)).toBe(true);
    // Nothing unknown is held back: no key (no id or caller), or never refused.
    expect(first.holdsBack(undefined, 10, 1500)).toBe(false);
    expect(first.holdsBack('never-refused', 10, 1500)).toBe(false);
  });

  test('lets reposts compete while producers hold little (a burst from a few producers)', () => {
    const few = holding(20);
    expect(few.holdsBack('held-0', 10, 1500)).toBe(false);
  });

  test('tells a new event refused in a stall (new events come slower than runs started lately, producers hold a backlog) from one refused in a storm', () => {
    const first = holding(21);
    expect(first.stalled(10, 1500)).toBe(true);
    // The stall stops runs from starting: the rate of the last 10 s stands.
    expect(first.stalled(0, 5000)).toBe(true);
    expect(first.stalled(0, 11_600)).toBe(false);
    // New events as fast as runs start: a storm.
    const storm = holding(100);
    for (let t = 0; t < 20; t++) storm.holdsBack(`new-${t}`, 10, 1000 + t * 50);
    expect(storm.stalled(10, 2000)).toBe(false);
    // Producers hold little: no storm behind.
    expect(holding(20).stalled(10, 1500)).toBe(false);
  });

  test('lets reposts compete while new events come as fast, or no run starts', () => {
    const busy = holding(100);
    // 12 new events in the last 2 s (6/s) against runs starting at 10/s.
    for (let t = 0; t < 12; t++) busy.holdsBack(`new-${t}`, 10, 1000 + t * 50);
    expect(busy.holdsBack('held-0', 10, 1600)).toBe(false);
    // Those new events age out of the count: held back again.
    expect(busy.holdsBack('held-0', 10, 3700)).toBe(true);
    expect(busy.holdsBack('held-0', 0, 3700)).toBe(false);
  });

  test('once let in, a repeat of an event is new again', () => {
    const first = holding(100);
    expect(first.holdsBack('held-0', 10, 100)).toBe(true);
    first.letIn('held-0');
    expect(first.holdsBack('held-0', 10, 200)).toBe(false);
  });
});
