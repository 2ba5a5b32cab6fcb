import { FairQueue } from '../../../src/templates/fairQueue';

const task = (organization: string, webhook: string, n: number) => ({ owner: { organization, webhook }, n });

describe('FairQueue', () => {
  test('when organizations queue in bursts, then they take turns, and within one its webhooks do', () => {
    const q = new FairQueue<ReturnType<typeof task>>();
    for (let i = 0; i < 4; i++) q.push(task('a', i % 2 ? 'a2' : 'a1', i));
    q.push(task('b', 'b1', 10));
    q.push(task('b', 'b1', 11));
    expect(q.size).toBe(6);
    expect(q.waiting('a')).toBe(4);
    const order = q.drain().map((t) => `${t.owner.webhook}:${t.n}`);
    expect(order).toEqual(['a1:0', 'b1:10', 'a2:1', 'b1:11', 'a1:2', 'a2:3']);
    expect(q.size).toBe(0);
    expect(q.waiting('a')).toBe(0);
  });

  test('when a task is put back in front, then it is next, and ineligible organizations are skipped', () => {
    const q = new FairQueue<ReturnType<typeof task>>();
    q.push(task('a', 'x', 1));
    q.push(task('b', 'y', 2));
    q.push(task('b', 'y', 3), true);
    expect(q.shift()?.n).toBe(3);
    expect(q.shift((org) => org !== 'a')?.n).toBe(2);
    expect(q.shift((org) => org !== 'a')).toBeUndefined();
    expect(q.shift()?.n).toBe(1);
  });
});
