import { EventLag } from '../../../src/events/lag';

describe('EventLag', () => {
  test('reads the highest lag of the last second, and nothing once no run has started for a second', () => {
    const lag = new EventLag();
    expect(lag.current(10_000)).toBe(0);
    lag.record(6_000, undefined, 10_000); // accepted 4 s before its run started
    lag.record(9_990, undefined, 10_100); // one started at once does not hide it
    expect(lag.current(10_500)).toBe(4_000);
    expect(lag.current(11_000)).toBe(0);
    lag.record(10_900, undefined, 11_100);
    expect(lag.current(11_200)).toBe(200);
  });

  test('expects a new event to wait for the events accepted before it, at the rate runs start', () => {
    const lag = new EventLag();
    expect(lag.expectedWaitMs(0)).toBe(0);
    for (let i = 0; i < 300; i++) lag.accepting(`e${i}`, 0);
    // Waiting, and nothing has started: no end in sight.
    expect(lag.expectedWaitMs(100)).toBe(Infinity);
    // 100 start within 2 s (50/s): the other 200 take about 4 s more.
    for (let i = 0; i < 100; i++) lag.record(0, `e${i}`, 1_000 + i * 10);
    expect(lag.expectedWaitMs(2_000)).toBe(4_000);
    // A refused or failed start does not wait; a run started elsewhere is forgotten after a minute.
    lag.notAccepted('e100');
    expect(lag.expectedWaitMs(2_000)).toBe(3_980);
    lag.accepting('later', 61_000);
    expect(lag.expectedWaitMs(61_000)).toBe(Infinity);
    lag.record(61_000, 'later', 61_500);
    expect(lag.expectedWaitMs(61_600)).toBe(0);
  });

  test('says how long the oldest event still waiting has waited', () => {
    const lag = new EventLag();
    expect(lag.oldestWaitMs(5_000)).toBe(0);
    lag.accepting('a', 1_000);
    lag.accepting('b', 2_000);
    expect(lag.oldestWaitMs(2_500)).toBe(1_500);
    lag.record(1_000, 'a', 2_600); // started: the next one is now the oldest
    expect(lag.oldestWaitMs(3_000)).toBe(1_000);
    lag.notAccepted('b');
    expect(lag.oldestWaitMs(3_000)).toBe(0);
  });
});
