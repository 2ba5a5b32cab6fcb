import { EagerStartGate } from '../../../src/events/eagerGate';

describe('EagerStartGate', () => {
  afterEach(() => jest.useRealTimers());

  test('allows eager starts until one takes over 1.5 s, then none for 10 s', () => {
    const gate = new EagerStartGate();
    expect(gate.allows(0)).toBe(true);
    gate.track(0)(1_400); // a busy moment, not a slow Temporal
    expect(gate.allows(1_500)).toBe(true);
    gate.track(1_000)(2_600); // 1.6 s: Temporal is slow
    expect(gate.allows(2_700)).toBe(false);
    expect(gate.allows(12_500)).toBe(false);
    expect(gate.allows(12_600)).toBe(true);
  });

  test('closes once a start has taken 1.5 s, before it ends', () => {
    jest.useFakeTimers({ now: 100_000 });
    const gate = new EagerStartGate();
    const ended = gate.track();
    jest.advanceTimersByTime(1_400);
    expect(gate.allows()).toBe(true);
    jest.advanceTimersByTime(200); // still waiting on Temporal
    expect(gate.allows()).toBe(false);
    jest.advanceTimersByTime(8_000);
    ended(); // given up at 9.6 s: closed for 10 s from then
    jest.advanceTimersByTime(9_900);
    expect(gate.allows()).toBe(false);
    jest.advanceTimersByTime(200);
    expect(gate.allows()).toBe(true);
  });
});
