import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { listenOnCopies } from '../../../src/api/acceptPerTurn';

const BURST = 24;

/**
 * Opens BURST connections while the event loop is saturated (every turn runs 20 ms of work), and
 * counts the connections accepted in each turn, over the server and its copies.
 */
async function acceptsPerTurn(copies: number) {
  const handler: http.RequestListener = (_req, res) => res.end('ok');
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const servers = [server, ...(await listenOnCopies(server, handler, copies))];
  const { port } = server.address() as AddressInfo;

  let turn = 0;
  let saturated = true;
  const perTurn = new Map<number, number>();
  const byServer = servers.map(() => 0);
  servers.forEach((s, i) =>
    s.on('connection', () => {
      if (!saturated) return;
      perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
      byServer[i]++;
    }),
  );
  const work = () => {
    const until = Date.now() + 20;
    while (Date.now() < until);
    turn++;
    if (saturated) setImmediate(work);
  };
  // The kernel completes loopback handshakes by itself: the burst waits in its accept queue.
  const sockets = Array.from({ length: BURST }, () => net.connect(port, '127.0.0.1'));
  setImmediate(work);
  while ([...perTurn.values()].reduce((a, b) => a + b, 0) < BURST) await new Promise((r) => setTimeout(r, 5));
  saturated = false;

  // A request on a connection a copy accepted is answered by the same handler.
  const answers = await Promise.all(
    Array.from({ length: 8 }, () =>
      fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } }).then((r) => r.text()),
    ),
  );
  sockets.forEach((s) => s.destroy());
  await Promise.all(servers.map((s) => (s.closeAllConnections(), new Promise((r) => s.close(r)))));
  return { most: Math.max(...perTurn.values()), byServer, answers };
}

describe('accepting new connections while the event loop is saturated', () => {
  test('with one listening descriptor, Node accepts one connection per turn of the loop', async () => {
    const { most, byServer } = await acceptsPerTurn(0);
    expect(most).toBe(1);
    expect(byServer).toEqual([BURST]);
  });

  test('with 7 copies of the descriptor, a turn accepts up to 8, and the copies answer requests', async () => {
    const { most, byServer, answers } = await acceptsPerTurn(7);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(8);
    expect(byServer).toHaveLength(8);
    expect(byServer.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(answers).toEqual(Array(8).fill('ok'));
  });

  test('a copy of the descriptor stops accepting when closed; the socket stays open for the others', async () => {
    const handler: http.RequestListener = (_req, res) => res.end('still');
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const [copy] = await listenOnCopies(server, handler, 1);
    expect((copy.address() as AddressInfo).port).toBe(port);
    await new Promise((r) => server.close(r));
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('still');
    copy.closeAllConnections();
    await new Promise((r) => copy.close(r));
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
