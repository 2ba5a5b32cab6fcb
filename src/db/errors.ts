/** MongoDB's duplicate key error (E11000): an insert or upsert lost to an existing `_id` or unique key. */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown } | null | undefined)?.code === 11000;
}
