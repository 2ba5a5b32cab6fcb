/**
 * Checks on JSON values as they come off the wire. Pure (workflow code imports it through filters
 * and payloads).
 */

/** A JSON object: not null, not an array. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * How deeply objects and arrays may nest in any one field of a request body. Deeper values overflow
 * the stack of JSON.stringify, BSON and templates further on.
 */
export const MAX_JSON_DEPTH = 64;

/** How deeply objects and arrays nest in a JSON value, counted up to `limit + 1`, without recursion (the value may be hostile). */
export function nestingDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * The first field of `body` whose value nests deeper than `limit`, as a dotted path, or null. Each
 * top-level key is a field; the keys listed in `within` (say `event`) are looked into, so the answer
 * names `event.x` rather than `event`.
 */
export function fieldNestedTooDeep(
  body: unknown,
  within: readonly string[] = [],
  limit = MAX_JSON_DEPTH,
): string | null {
  if (!isPlainObject(body)) return nestingDepth(body, limit) > limit ? '(body)' : null;
  for (const [key, value] of Object.entries(body)) {
    if (within.includes(key) && isPlainObject(value)) {
      const inner = fieldNestedTooDeep(value, [], limit);
      if (inner) return `${key}.${inner}`;
    } else if (nestingDepth(value, limit) > limit) return key;
  }
  return null;
}
