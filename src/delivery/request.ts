/**
 * The stages of one attempt that do not touch the network: prepare the request (headers and
 * signatures, fresh at every attempt), mask it for the log, and classify the answer.
 */
import { isReservedHeader, MASKED_VALUE } from '../webhooks/headers';
import { signatureHeader } from './signing';
import { retryAfterMs, type HttpResult } from './http';

export const USER_AGENT = 'hookrelay-webhooks/0.1';

export interface HeaderPair {
  name: string;
  value: string;
}

export interface PreparedRequest {
  headers: Record<string, string>;
  /** The same headers for the log: custom header values and signatures masked. */
  loggedHeaders: HeaderPair[];
}

export function prepareRequest(opts: {
  deliveryId: string;
  body: string;
  extraHeaders: readonly { name?: string | null; value?: string | null }[];
  secrets: readonly string[];
  now: Date;
}): PreparedRequest {
  const timestamp = Math.floor(opts.now.getTime() / 1000);
  const headers: Record<string, string> = {};
  const logged: HeaderPair[] = [];
  for (const h of opts.extraHeaders) {
    if (!h.name || isReservedHeader(h.name)) continue;
    headers[h.name] = h.value ?? '';
    logged.push({ name: h.name, value: MASKED_VALUE });
  }
  const standard: HeaderPair[] = [
    { name: 'Content-Type', value: 'application/json' },
    { name: 'User-Agent', value: USER_AGENT },
    { name: 'webhook-id', value: opts.deliveryId },
    { name: 'webhook-timestamp', value: String(timestamp) },
  ];
  for (const h of standard) {
    headers[h.name] = h.value;
    logged.push(h);
  }
  if (opts.secrets.length) {
    const signature = signatureHeader(opts.secrets, opts.deliveryId, timestamp, opts.body);
    headers['webhook-signature'] = signature;
    logged.push({ name: 'webhook-signature', value: signature.replace(/v1,[^ ]+/g, `v1,${MASKED_VALUE}`) });
  }
  return { headers, loggedHeaders: logged };
}

export type Verdict =
  | { kind: 'delivered'; status: number }
  | {
      kind: 'failed';
      status?: number;
      error: string;
      retryAfterMs?: number;
      /** Retrying cannot help (the target is refused as non-public): the delivery fails now. */
      final?: true;
    };

/**
 * 2xx is delivered; any other answer, a timeout or a connection error is a failed attempt, final when
 * the target was refused as non-public.
 */
export function classify(result: HttpResult, retryAfterCapMs: number): Verdict {
  if (result.blocked) return { kind: 'failed', error: result.error ?? 'refused target', final: true };
  if (result.status === undefined) return { kind: 'failed', error: result.error ?? 'no answer' };
  if (result.status >= 200 && result.status < 300) return { kind: 'delivered', status: result.status };
  const verdict: Verdict = { kind: 'failed', status: result.status, error: `HTTP ${result.status}` };
  if (result.status === 429 || result.status === 503) {
    const after = retryAfterMs(result.retryAfterHeader);
    if (after !== undefined) verdict.retryAfterMs = Math.min(after, retryAfterCapMs);
  }
  return verdict;
}

/** The answer as stored in a log row: at most 4 KB. */
export const LOGGED_RESPONSE_BYTES = 4096;
export function responseExcerpt(body: string): string {
  const buf = Buffer.from(body);
  return buf.length <= LOGGED_RESPONSE_BYTES ? body : buf.subarray(0, LOGGED_RESPONSE_BYTES).toString('utf8');
}
