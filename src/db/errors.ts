/** MongoDB's duplicate key error (E11000): an insert or upsert lost to an existing `_id` or unique key. */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown } | null | undefined)?.code === 11000;
}

/** Driver errors that say the store cannot be reached: refused or dropped connections, no server to select. */
const UNREACHABLE = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
]);

export function isStoreUnreachable(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null | undefined;
  if (typeof e?.name === 'string' && UNREACHABLE.has(e.name)) return true;
  // mongoose holds operations while it has no connection and gives up with this message.
  return typeof e?.message === 'string' && /buffering timed out/.test(e.message);
}
