/**
 * `npm test`: starts a throw-away embedded stack on free ports (unless TEMPORAL_ADDRESS and
 * MONGODB_URI are set), bundles the workflows once, runs jest against it, and stops the stack
 * afterwards, whatever jest's result. Extra arguments go to jest (`npm test -- test/integration/api`).
 * `--unit` (`npm run test:unit`) runs only test/unit, which needs no stack, and starts none.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeWorkflowBundle } from '../src/worker/bundle';
import { freePorts, startStack } from '../src/stack';
import { ensureJsonnetEvaluator } from '../src/stack/binaries';
import { waitForTemporal } from '../src/temporal/client';

const root = path.resolve(__dirname, '..');

function runJest(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const jest = require.resolve('jest/bin/jest');
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [jest, ...args], { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  if (process.argv[2] === '--unit') {
    await ensureJsonnetEvaluator();
    return runJest(['test/unit', ...process.argv.slice(3)], process.env);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-test-'));
  const t0 = Date.now();
  const [temporalPort, uiPort, storePort] = await freePorts(3);
  const stack = await startStack({
    dataDir,
    temporal: process.env.TEMPORAL_ADDRESS ? undefined : { port: temporalPort, uiPort },
    store: process.env.MONGODB_URI ? undefined : { port: storePort, database: 'test' },
  });
  let stopped = false;
  const cleanup = async () => {
    if (stopped) return;
    stopped = true;
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));
  try {
    const temporalAddress = process.env.TEMPORAL_ADDRESS || stack.temporalAddress!;
    // Built here (first run on a machine only) so no test's time limit has to cover the build.
    await Promise.all([waitForTemporal(temporalAddress), ensureJsonnetEvaluator()]);
    console.error(`test stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const bundlePath = await writeWorkflowBundle(dataDir);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      MONGODB_URI: process.env.MONGODB_URI || stack.mongoUri,
      STORE_POSTGRES_URL: process.env.MONGODB_URI ? process.env.STORE_POSTGRES_URL : stack.storePostgresUrl,
      HOOKRELAY_WORKFLOW_BUNDLE: bundlePath,
      // The test stack delivers to receivers on 127.0.0.1 and retries in milliseconds, not minutes.
      ALLOW_PRIVATE_TARGETS: 'true',
      RETRY_INITIAL_INTERVAL_MS: process.env.RETRY_INITIAL_INTERVAL_MS || '100',
      RETRY_BACKOFF_COEFFICIENT: process.env.RETRY_BACKOFF_COEFFICIENT || '2',
      DELIVERY_TIMEOUT_MS: process.env.DELIVERY_TIMEOUT_MS || '3000',
      LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
    };
    return await runJest(process.argv.slice(2), env);
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
