import { RETRY_AFTER_SECONDS } from '../../../src/api/errors';
import { RetryAdvice } from '../../../src/api/retryAdvice';

/** One second of traffic: `refused` posts refused and `letIn` let through, spread over the second. */
function second(advice: RetryAdvice, start: number, refused: number, letIn: number): number[] {
  const answers: number[] = [];
  for (let i = 0; i < refused; i++) answers.push(advice.refuse(start + (i * 1000) / refused));
  for (let i = 0; i < letIn; i++) advice.letIn(start + (i * 1000) / letIn);
  return answers;
}

describe('RetryAdvice', () => {
  test('starts at the base advice, each answer given between half of it and all of it', () => {
    const low = new RetryAdvice(0, () => 0);
    const high = new RetryAdvice(0, () => 0.999);
    expect(low.refuse(10)).toBe(Math.round(RETRY_AFTER_SECONDS * 0.5));
    expect(high.refuse(10)).toBe(RETRY_AFTER_SECONDS);
  });

  test('never tells a refused post to wait longer than the advice, however long it has grown', () => {
    const advice = new RetryAdvice(0, () => 0.999);
    const answers: number[] = [];
    for (let s = 0; s < 10; s++) answers.push(...second(advice, s * 1000, 1000, 37));
    expect(advice.current(10_000)).toBe(30);
    expect(Math.max(...answers)).toBe(30);
  });

  test('grows while many more events are refused than let in, up to 30 s, and falls back once refusals stop', () => {
    const advice = new RetryAdvice(0, () => 0.5);
    // A storm: 1,000 refusals a second against 37 let in.
    for (let s = 0; s < 10; s++) second(advice, s * 1000, 1000, 37);
    expect(advice.current(10_000)).toBe(30);
    // Producers wait longer now: fewer refusals a second for as many waiting events (~3,000).
    for (let s = 10; s < 20; s++) second(advice, s * 1000, 100, 37);
    expect(advice.current(20_000)).toBe(30);
    // Caught up: nothing refused.
    for (let s = 20; s < 30; s++) second(advice, s * 1000, 0, 10);
    expect(advice.current(30_000)).toBe(RETRY_AFTER_SECONDS);
  });

  test('stays at the base advice while refusals are few against what is let in', () => {
    const advice = new RetryAdvice(0, () => 0.5);
    for (let s = 0; s < 10; s++) second(advice, s * 1000, 5, 40);
    expect(advice.current(10_000)).toBe(RETRY_AFTER_SECONDS);
  });
});
