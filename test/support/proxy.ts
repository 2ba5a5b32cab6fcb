import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP proxy to a server (the store, Temporal) that can be cut: the server as the API sees it goes away. */
export async function startCuttableProxy(target: { hostname: string; port: string }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
