/**
 * One HTTP request to a webhook URL, and nothing more: no retries, no redirects. The address the
 * host name resolves to is checked against the private-target rule at connect time (so DNS cannot
 * swap in an internal address after validation), the whole exchange has one deadline, and only the
 * first bytes of the answer are read. Through the egress proxy (egress.ts) the target's name is
 * resolved and checked here before the proxy is asked, since the proxy does the connecting.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { LookupFunction } from 'node:net';
import { isPrivateAddress } from '../webhooks/urlSafety';
import { proxyAgentFor, type EgressProxy } from './egress';

export interface HttpAttempt {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  responseLimitBytes: number;
  allowPrivateTargets: boolean;
  /** The egress proxy, if any: requests to hosts it does not exempt go through it. */
  egress?: EgressProxy;
}

export interface HttpResult {
  /** The answer's status, absent when no answer came (timeout, refused, reset, blocked). */
  status?: number;
  /** Why no answer came. */
  error?: string;
  /** The target was refused as non-public (loopback, private, link-local…): nothing was sent. */
  blocked?: true;
  responseBody: string;
  retryAfterHeader?: string;
  durationMs: number;
}

// Keep-alive pools: a busy receiver is reached over a few reused connections instead of one
// handshake per delivery. Idle sockets close after 4 s, before Node servers' 5 s default.
const agentOptions = { keepAlive: true, maxSockets: 256, timeout: 4_000, scheduling: 'lifo' as const };
const httpAgent = new http.Agent(agentOptions);
const httpsAgent = new https.Agent(agentOptions);

const BLOCKED = 'EBLOCKED';

class BlockedTargetError extends Error {
  readonly code = BLOCKED;
}

function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const blocked = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (blocked) {
        // Not the address: what a name resolves to inside this network is not the tenant's to learn.
        return callback(new BlockedTargetError(`${hostname} resolves to a non-public address`), '', 0);
      }
      if (!list.length) return callback(new Error(`${hostname} has no address`), '', 0);
      if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/** Resolves the target's name and refuses it as guardedLookup would: for requests the proxy connects. */
function checkResolvedTarget(hostname: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    guardedLookup(false)(hostname, { all: true }, (err) => resolve(err));
  });
}

export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function errorText(err: unknown): string {
  // Not `instanceof Error`: errors from Node's own modules may come from another realm.
  const { code, message } = (err ?? {}) as Partial<NodeJS.ErrnoException>;
  if (typeof message !== 'string') return String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

export async function sendHttp(attempt: HttpAttempt): Promise<HttpResult> {
  const started = performance.now();
  const done = (r: Omit<HttpResult, 'durationMs'>): HttpResult => ({
    ...r,
    durationMs: Math.round(performance.now() - started),
  });
  let url: URL;
  try {
    url = new URL(attempt.url);
  } catch {
    return done({ error: 'invalid URL', responseBody: '' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return done({ error: `unsupported protocol ${url.protocol}`, responseBody: '' });
  }
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(literal) && !attempt.allowPrivateTargets && isPrivateAddress(literal)) {
    return done({ error: `${literal} is a non-public address`, blocked: true, responseBody: '' });
  }
  const client = url.protocol === 'https:' ? https : http;
  const body = Buffer.from(attempt.body);
  const proxyAgent = attempt.egress ? proxyAgentFor(url, attempt.egress) : undefined;
  if (proxyAgent && !attempt.allowPrivateTargets && !net.isIP(literal)) {
    // The SSRF rule is about the target, not the proxy (trusted configuration, may be on loopback).
    // A name this host cannot resolve is refused too: it cannot be checked.
    const refused = await checkResolvedTarget(url.hostname);
    if (refused?.code === BLOCKED) return done({ error: refused.message, blocked: true, responseBody: '' });
    if (refused) return done({ error: errorText(refused), responseBody: '' });
  }

  return new Promise<HttpResult>((resolve) => {
    let settled = false;
    const finish = (r: Omit<HttpResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(r));
    };
    let req: http.ClientRequest;
    try {
      // Throws synchronously for a request Node refuses to build (a header value with a control
      // character, say): that is a failed attempt, not an interrupted one.
      req = client.request(url, {
        method: attempt.method,
        headers: { ...attempt.headers, 'content-length': String(body.length) },
        ...(proxyAgent
          ? { agent: proxyAgent }
          : {
              agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
              lookup: guardedLookup(attempt.allowPrivateTargets),
            }),
      });
    } catch (err) {
      settled = true;
      resolve(done({ error: `request not sent: ${errorText(err)}`, responseBody: '' }));
      return;
    }
    const timer = setTimeout(() => {
      req.destroy();
      finish({ error: `timed out after ${attempt.timeoutMs} ms`, responseBody: '' });
    }, attempt.timeoutMs);
    // A proxy that refuses the tunnel answers CONNECT itself (403, 407, 502…): that status is the
    // proxy's, not the receiver's, so it is reported as an error without a status.
    req.on('proxyConnect', (connect: { statusCode?: number; statusText?: string }) => {
      if (connect.statusCode !== 200) {
        finish({ error: `egress proxy refused the tunnel: ${connect.statusCode}`, responseBody: '' });
        req.destroy();
      }
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === BLOCKED) finish({ error: err.message, blocked: true, responseBody: '' });
      else finish({ error: errorText(err), responseBody: '' });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const complete = () => {
        const status = res.statusCode ?? 0;
        const retryAfter = res.headers['retry-after'];
        finish({
          status,
          responseBody: Buffer.concat(chunks).toString('utf8'),
          retryAfterHeader: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        });
      };
      res.on('data', (chunk: Buffer) => {
        if (size < attempt.responseLimitBytes) chunks.push(chunk.subarray(0, attempt.responseLimitBytes - size));
        size += chunk.length;
        if (size > attempt.responseLimitBytes) {
          // Enough read: drop the rest rather than download an unbounded answer.
          complete();
          res.destroy();
        }
      });
      res.on('end', complete);
      res.on('error', complete);
      res.on('close', complete);
    });
    req.end(body);
  });
}
