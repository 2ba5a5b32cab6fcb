/**
 * Loaded first by fuzzService.ts into the service `npm run fuzz` runs: the fuzzer makes up webhook URLs, and
 * test sends and deliveries would call them. This keeps every outgoing connection on this
 * machine: names other than localhost do not resolve, and addresses other than loopback are
 * refused at connect. A fuzz run's guard only, never loaded in production.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const LOCAL_NAMES = new Set(['localhost', 'localhost.']);
const isLoopback = (ip: string) => /^127\./.test(ip) || ip === '::1' || ip === '::ffff:127.0.0.1';
const resolvable = (hostname: string) => net.isIP(hostname) > 0 || LOCAL_NAMES.has(hostname.toLowerCase());
const notFound = (hostname: string) =>
  Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (fuzz run: only localhost resolves)`), {
    code: 'ENOTFOUND',
    hostname,
  });

type AnyFn = (...args: unknown[]) => unknown;
const mutable = (o: object) => o as unknown as Record<string, AnyFn>;

const lookup = dns.lookup as unknown as AnyFn;
mutable(dns).lookup = function guardedLookup(this: unknown, ...args: unknown[]) {
  const hostname = String(args[0]);
  if (resolvable(hostname)) return lookup.apply(this, args);
  const callback = args.find((a) => typeof a === 'function') as AnyFn;
  process.nextTick(() => callback(notFound(hostname)));
  return {};
};
const promisesLookup = dns.promises.lookup as unknown as AnyFn;
mutable(dns.promises).lookup = async function guardedPromisesLookup(this: unknown, ...args: unknown[]) {
  const hostname = String(args[0]);
  if (resolvable(hostname)) return promisesLookup.apply(this, args);
  throw notFound(hostname);
};

for (const Agent of [http.Agent, https.Agent]) {
  const create = mutable(Agent.prototype).createConnection;
  mutable(Agent.prototype).createConnection = function guardedCreateConnection(this: unknown, ...args: unknown[]) {
    const options = (args[0] ?? {}) as { host?: string; hostname?: string };
    const host = String(options.host || options.hostname || 'localhost').replace(/^\[|\]$/g, '');
    if (net.isIP(host) && !isLoopback(host)) {
      const err = Object.assign(new Error(`connect to ${host} refused (fuzz run: loopback only)`), {
        code: 'ECONNREFUSED',
      });
      // The agent's callback: the request fails with this error, as with a refused connection.
      const callback = args[1];
      if (typeof callback === 'function') return void process.nextTick(() => callback(err));
      throw err;
    }
    return create.apply(this, args);
  };
}
