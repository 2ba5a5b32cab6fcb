import { EventLag } from '../../../src/events/lag';

describe('EventLag', () => {
  test('reads the highest lag of the last second, and nothing once no run has started for a second', () => {
    const lag = new EventLag();
    expect(lag.current(10_000)).toBe(0);
    lag.record(6_000, 10_000); // accepted 4 s before its run started
    lag.record(9_990, 10_100); // one started at once does not hide it
    expect(lag.current(10_500)).toBe(4_000);
    expect(lag.current(11_000)).toBe(0);
    lag.record(10_900, 11_100);
    expect(lag.current(11_200)).toBe(200);
  });
});
