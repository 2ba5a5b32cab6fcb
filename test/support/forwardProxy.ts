/**
 * An HTTP forward proxy on 127.0.0.1 for tests, recording what passed: CONNECT tunnels and
 * absolute-form requests. It only ever connects to 127.0.0.1; a request for any other host is
 * answered by the proxy itself (200, `answered by the test proxy`), so tests never leave the machine.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  kind: 'connect' | 'forward';
  /** `host:port` for a tunnel, the absolute URL for a forwarded request. */
  target: string;
  proxyAuthorization?: string;
}

export interface ForwardProxy {
  port: number;
  /** The proxy URL, with `user:password@` when credentials were given. */
  url: string;
  passed: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startForwardProxy(credentials?: { user: string; password: string }): Promise<ForwardProxy> {
  const passed: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const target = req.url ?? '';
    passed.push({ kind: 'forward', target, proxyAuthorization: req.headers['proxy-authorization'] });
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      res.writeHead(400).end('absolute-form request expected');
      return;
    }
    if (url.hostname !== '127.0.0.1') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('answered by the test proxy');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(url, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end('upstream failed'));
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    passed.push({ kind: 'connect', target, proxyAuthorization: req.headers['proxy-authorization'] });
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), target.slice(target.lastIndexOf(':') + 1)];
    if (host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const auth = credentials ? `${credentials.user}:${credentials.password}@` : '';
  return {
    port,
    url: `http://${auth}127.0.0.1:${port}`,
    passed,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
