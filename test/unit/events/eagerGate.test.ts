import { EagerStartGate } from '../../../src/events/eagerGate';

describe('EagerStartGate', () => {
  test('allows eager starts until one takes over a second, then none for 10 s', () => {
    const gate = new EagerStartGate();
    expect(gate.allows(0)).toBe(true);
    gate.ended(0, 900); // quick enough
    expect(gate.allows(1_000)).toBe(true);
    gate.ended(1_000, 2_500); // 1.5 s: Temporal is slow
    expect(gate.allows(2_600)).toBe(false);
    expect(gate.allows(12_400)).toBe(false);
    expect(gate.allows(12_500)).toBe(true);
  });
});
