import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { serveApi } from '../../../src/api/serve';
import { connectDatabase, disconnectDatabase } from '../../../src/db/connect';
import { createLogger } from '../../../src/logger';
import { freePorts } from '../../../src/stack';
import { connectTemporalClient } from '../../../src/temporal/client';
import { testConfig } from '../../support/harness';

/** Descriptors this process holds on the socket listening on `port` (Linux: /proc). */
function listeningDescriptors(port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const listening = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(hexPort) && f[3] === '0A');
  if (!listening) return 0;
  const target = `socket:[${listening[9]}]`;
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === target;
    } catch {
      return false; // closed meanwhile
    }
  }).length;
}

describe('the API server', () => {
  test('when it listens, then it holds API_ACCEPTS_PER_TURN descriptors of its socket, each answering; on stop, none is left', async () => {
    const [port] = await freePorts(1);
    const config = testConfig({ PORT: String(port), HOST: '127.0.0.1', API_ACCEPTS_PER_TURN: '4' });
    await connectDatabase(config.MONGODB_URI, config.STORE_POSTGRES_URL);
    const temporal = await connectTemporalClient(config);
    const stop = serveApi({ temporal, config, logger: createLogger('api', 'error') });
    try {
      const deadline = Date.now() + 10_000;
      while (listeningDescriptors(port) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(listeningDescriptors(port)).toBe(4);

      // New connections each, so the copies accept some of them.
      const statuses = await Promise.all(
        Array.from({ length: 24 }, () =>
          fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' } }).then((r) => r.status),
        ),
      );
      expect(statuses).toEqual(Array(24).fill(200));
    } finally {
      await stop();
      await temporal.connection.close();
      await disconnectDatabase();
    }
    expect(listeningDescriptors(port)).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
