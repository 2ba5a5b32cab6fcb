import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Config } from '../../src/config';
import { startHarness } from './harness';

/** A TCP proxy to a server (the store, Temporal) that can be cut: the server as the API sees it goes away. */
export async function startCuttableProxy(target: { hostname: string; port: string }) {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    // After pipe(), which resumes a paused source: a connection opened while frozen stays frozen too.
    if (frozen) for (const s of [client, upstream]) s.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    /** Like a server stopped with SIGSTOP: connections stay open, nothing moves through them. */
    freeze: () => {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    thaw: () => {
      frozen = false;
      for (const s of sockets) s.resume();
    },
    cut: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

/** A harness whose store is reached through a cuttable proxy: `proxy.cut()` or `proxy.freeze()` it. */
export async function startHarnessBehindStoreProxy(config: Config, shared: Parameters<typeof startHarness>[1] = {}) {
  const proxy = await startCuttableProxy(new URL(config.MONGODB_URI));
  const uri = new URL(config.MONGODB_URI);
  uri.host = `127.0.0.1:${proxy.port}`;
  const h = await startHarness({ ...config, MONGODB_URI: uri.toString() }, shared);
  return { h, proxy };
}
