import net from 'node:net';
import type { AddressInfo } from 'node:net';

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
      if (frozen) s.pause();
    }
    client.pipe(upstream).pipe(client);
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
