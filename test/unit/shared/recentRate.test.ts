import { RecentRate } from '../../../src/shared/recentRate';

describe('RecentRate', () => {
  test('counts what happened within the window, per second', () => {
    const rate = new RecentRate(2000);
    expect(rate.perSecond(0)).toBe(0);
    for (let i = 0; i < 100; i++) rate.add(1000 + i * 10);
    expect(rate.perSecond(1999)).toBe(50);
    // Half of them (1000-1490) have left the window by 3400 (counted in tenths of a second).
    expect(rate.perSecond(3400)).toBe(25);
    expect(rate.perSecond(4000)).toBe(0);
  });

  test('starts empty after a long quiet spell, and ignores what is older than the window', () => {
    const rate = new RecentRate(2000);
    rate.add(0);
    rate.add(100_000);
    expect(rate.perSecond(100_000)).toBe(0.5);
    rate.add(50_000);
    expect(rate.perSecond(100_000)).toBe(0.5);
  });
});
