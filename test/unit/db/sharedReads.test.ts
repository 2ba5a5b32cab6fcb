import { SharedReads } from '../../../src/db/sharedReads';

/** A "store" whose reads take a while and answer with what it held when they started. */
function slowStore() {
  let value = 0;
  const started: number[] = [];
  const read = async () => {
    const seen = value;
    started.push(seen);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return seen;
  };
  return { read, started, write: (v: number) => (value = v) };
}

describe('SharedReads', () => {
  it('lets callers that come while a read is in flight share the next one', async () => {
    const store = slowStore();
    const reads = new SharedReads<number>();
    const first = reads.read('k', store.read);
    const followers = Array.from({ length: 10 }, () => reads.read('k', store.read));
    await Promise.all([first, ...followers]);
    expect(store.started).toHaveLength(2);
  });

  it('never answers a caller with a read that started before it asked', async () => {
    const store = slowStore();
    const reads = new SharedReads<number>();
    const before = reads.read('k', store.read);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the first read is in flight
    store.write(1);
    const after = reads.read('k', store.read);
    expect(await before).toBe(0);
    expect(await after).toBe(1);
  });

  it('keeps keys apart, and reads afresh once nothing is in flight', async () => {
    const store = slowStore();
    const reads = new SharedReads<number>();
    await Promise.all([reads.read('a', store.read), reads.read('b', store.read)]);
    expect(store.started).toHaveLength(2);
    store.write(7);
    expect(await reads.read('a', store.read)).toBe(7);
  });

  it('gives a failed read to the callers sharing it, and the next caller a new read', async () => {
    const reads = new SharedReads<number>();
    let calls = 0;
    const failing = async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('store down');
    };
    const shared = [reads.read('k', failing), reads.read('k', failing), reads.read('k', failing)];
    const results = await Promise.allSettled(shared);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(calls).toBe(2);
    expect(await reads.read('k', async () => 3)).toBe(3);
  });
});
