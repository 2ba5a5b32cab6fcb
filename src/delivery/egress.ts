/**
 * The egress proxy (DELIVERY_PROXY_URL): which requests go through it, and the agents that carry
 * them. https targets go through a CONNECT tunnel (https-proxy-agent), so the proxy never sees the
 * request; http targets are sent to the proxy in absolute form (http-proxy-agent), the way proxies
 * expect plain HTTP and the way most of them allow it (many refuse CONNECT to port 80).
 * Hosts matching DELIVERY_NO_PROXY are reached directly.
 */
import type http from 'node:http';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';

export interface EgressProxy {
  /** `http://[user:pass@]host:port` or `https://…`; unset: every request goes direct. */
  proxyUrl?: string;
  /** Comma-separated hosts, `.suffix`es or `*`, each optionally with `:port`, as in NO_PROXY. */
  noProxy?: string;
}

/** The same keep-alive pooling as direct requests (see http.ts), towards the proxy. */
const agentOptions = { keepAlive: true, maxSockets: 256, timeout: 4_000, scheduling: 'lifo' as const };

const agents = new Map<string, http.Agent>();

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/**
 * Whether DELIVERY_NO_PROXY sends this host direct: `*` matches all; `example.com` and
 * `.example.com` match the host and its subdomains; an entry with `:port` only that port.
 */
export function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  const host = target.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  const port = target.port || defaultPort(target.protocol);
  for (const raw of (noProxy ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const portAt = entry.match(/^(.*?)(?::(\d+))?$/);
    let name = (portAt?.[1] ?? entry).replace(/^\[|\]$/g, '');
    const entryPort = portAt?.[2];
    if (entryPort && entryPort !== port) continue;
    name = name.replace(/^\*?\./, '').replace(/\.$/, '');
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** The agent that sends a request for this target through the proxy, or undefined for a direct one. */
export function proxyAgentFor(target: URL, egress: EgressProxy): http.Agent | undefined {
  if (!egress.proxyUrl || bypassesProxy(target, egress.noProxy)) return undefined;
  const tunnel = target.protocol === 'https:';
  const id = `${tunnel ? 'connect' : 'forward'} ${egress.proxyUrl}`;
  let agent = agents.get(id);
  if (!agent) {
    agent = tunnel
      ? new HttpsProxyAgent(egress.proxyUrl, agentOptions)
      : new HttpProxyAgent(egress.proxyUrl, agentOptions);
    agents.set(id, agent);
  }
  return agent;
}

/** The proxy as logs may show it: scheme, host and port, never its credentials. */
export function proxyForLogs(proxyUrl: string): string {
  try {
    const u = new URL(proxyUrl);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid proxy URL)';
  }
}
