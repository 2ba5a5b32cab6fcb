import { isTransientStoreError, withStoreRetry } from '../../../src/db/storeRetry';

describe('withStoreRetry', () => {
  const busy = () =>
    new Error('[collection.go:135 sqlite.(*collection).InsertAll.func1] database is locked (5) (SQLITE_BUSY)');

  test('when the store is briefly busy, then the operation is tried again until it succeeds', async () => {
    let calls = 0;
    const value = await withStoreRetry(async () => {
      if (++calls < 3) throw busy();
      return 'done';
    });
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  test('when the error is not transient, or stays, then it is thrown', async () => {
    let calls = 0;
    const duplicate = Object.assign(new Error('E11000 duplicate key'), { code: 11000 });
    await expect(
      withStoreRetry(async () => {
        calls++;
        throw duplicate;
      }),
    ).rejects.toBe(duplicate);
    expect(calls).toBe(1);
    await expect(
      withStoreRetry(async () => {
        throw busy();
      }, 2),
    ).rejects.toThrow(/SQLITE_BUSY/);
  });

  test('when MongoDB labels an error transient, then it counts as transient', () => {
    expect(isTransientStoreError({ message: 'x', hasErrorLabel: (l: string) => l === 'RetryableWriteError' })).toBe(
      true,
    );
    expect(isTransientStoreError(new Error('validation failed'))).toBe(false);
    expect(isTransientStoreError(undefined)).toBe(false);
  });
});
