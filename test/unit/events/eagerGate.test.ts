import { EagerStartGate } from '../../../src/events/eagerGate';

describe('EagerStartGate', () => {
  test('allows eager starts until one takes over 1.5 s, then none for 10 s', () => {
    const gate = new EagerStartGate();
    expect(gate.allows(0)).toBe(true);
    gate.ended(0, 1_400); // a busy moment, not a slow Temporal
    expect(gate.allows(1_500)).toBe(true);
    gate.ended(1_000, 2_600); // 1.6 s: Temporal is slow
    expect(gate.allows(2_700)).toBe(false);
    expect(gate.allows(12_500)).toBe(false);
    expect(gate.allows(12_600)).toBe(true);
  });
});
