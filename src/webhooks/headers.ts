/**
 * The one list of headers hookrelay sets itself (or leaves to the HTTP client), and the one mask
 * for write-only values: saving a webhook refuses these names, sending skips them.
 */

/** Header values are write-only: reads and logs show this, and a PUT sending it keeps the stored value. */
export const MASKED_VALUE = '********';

const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'host',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

/** True for a header users may not configure: the list above and every `webhook-*` (Standard Webhooks). */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_HEADERS.has(lower) || lower.startsWith('webhook-');
}
