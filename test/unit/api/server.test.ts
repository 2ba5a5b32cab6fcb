import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, configureServer } from '../../../src/api/server';

describe('the API server’s keep-alive', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = configureServer(http.createServer((_req, res) => res.end('ok')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('timeouts outlast a load balancer’s 60 s idle timeout, headers timeout above keep-alive', () => {
    expect(server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
    expect(server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
    expect(HEADERS_TIMEOUT_MS).toBeGreaterThan(KEEP_ALIVE_TIMEOUT_MS);
  });

  test('when a client pauses longer than Node’s default 5 s, then its next request reuses the same connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ reused: boolean; port: number | undefined; keepAlive: string | undefined }>((resolve, reject) => {
        const req = http.get(base, { agent }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              reused: req.reusedSocket,
              port: req.socket?.localPort,
              keepAlive: String(res.headers['keep-alive']),
            }),
          );
        });
        req.on('error', reject);
      });
    const first = await get();
    // Node's default closes an idle socket after 5 s (measured here: between 5.5 and 8 s).
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const second = await get();
    agent.destroy();
    expect(first).toMatchObject({ reused: false, keepAlive: 'timeout=65' });
    expect(second).toMatchObject({ reused: true, port: first.port });
  }, 15_000);
});
