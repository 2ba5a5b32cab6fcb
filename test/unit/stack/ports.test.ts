import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startStack } from '../../../src/stack';

test(
  'when a port the stack needs is already taken, then it refuses to start instead of using that server',
  async () => {
    const squatter = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    const { port } = squatter.address() as AddressInfo;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-ports-'));
    try {
      await expect(startStack({ dataDir, store: { port }, log: () => {} })).rejects.toThrow(
        new RegExp(`port ${port} on 127.0.0.1 is already in use`),
      );
    } finally {
      squatter.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
  5 * 60_000,
);
