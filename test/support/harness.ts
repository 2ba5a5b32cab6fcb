/**
 * What every integration test needs: the suite's own stack (started by scripts/test.ts), a fresh
 * database and task queue per test file, the API in-process on port 0, and a worker.
 */
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import {
  NativeConnection,
  Runtime,
  Worker,
  DefaultLogger,
  type TelemetryOptions,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createApp } from '../../src/api/app';
import { loadConfig, type Config } from '../../src/config';
import { connectDatabase, disconnectDatabase } from '../../src/db/connect';
import type { EventLag } from '../../src/events/lag';
import { createLogger } from '../../src/logger';
import { connectTemporalClient } from '../../src/temporal/client';
import { workerOptions } from '../../src/worker/options';

let runtimeInstalled = false;

export function testConfig(overrides: Partial<Record<keyof Config, string>> = {}): Config {
  if (!process.env.TEMPORAL_ADDRESS || !process.env.MONGODB_URI) {
    throw new Error('run the tests with `npm test`: it starts the stack they need');
  }
  const suffix = crypto.randomBytes(4).toString('hex');
  const uri = new URL(process.env.MONGODB_URI);
  uri.pathname = `/t_${suffix}`;
  return loadConfig({
    ...process.env,
    MONGODB_URI: uri.toString(),
    TEMPORAL_TASK_QUEUE: `test-${suffix}`,
    // Every test calls from 127.0.0.1, and many expect 401s: the limit has its own test.
    AUTH_FAILURE_LIMIT: '0',
    // Tests revoke keys and change roles, then expect the next request to see it at once.
    AUTH_CACHE_TTL_MS: '0',
    // The whole suite on 2 shared cores answers slowly at times; the deadline has its own tests.
    REQUEST_DEADLINE_MS: '4000',
    ...overrides,
  });
}

export interface Harness {
  config: Config;
  temporal: Client;
  /** Base URL of the in-process API. */
  api: string;
  close(): Promise<void>;
}

/**
 * Connects the store and Temporal, and serves the API on 127.0.0.1:0. `eventLag`: the API reads
 * it as the one-process service does (pass the same to startWorker).
 */
export async function startHarness(
  config: Config = testConfig(),
  shared: { eventLag?: EventLag } = {},
): Promise<Harness> {
  await connectDatabase(config.MONGODB_URI, config.STORE_POSTGRES_URL);
  const temporal = await connectTemporalClient(config);
  const app = createApp({ temporal, config, logger: createLogger('api', 'error'), eventLag: shared.eventLag });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    config,
    temporal,
    api: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await temporal.connection.close();
      await disconnectDatabase();
    },
  };
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/**
 * The SDK's Runtime of this test file's process, once (startWorker installs it if the test did
 * not); a test of the SDK's own metrics passes its telemetry options before its first worker.
 */
export function installTestRuntime(telemetryOptions?: TelemetryOptions): void {
  if (runtimeInstalled) return;
  // Expected delivery failures would flood the output as SDK warnings.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    shutdownSignals: [],
    ...(telemetryOptions && { telemetryOptions }),
  });
  runtimeInstalled = true;
}

/** A worker on the harness's task queue, running until stop(). */
export async function startWorker(
  config: Config,
  shared: { eventLag?: EventLag; slots?: Pick<WorkerOptions, 'maxConcurrentWorkflowTaskExecutions'> } = {},
): Promise<RunningWorker> {
  installTestRuntime();
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    ...workerOptions(config),
    ...shared.slots,
    connection,
    activities: createActivities({ config, logger: createLogger('worker', 'error'), eventLag: shared.eventLag }),
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/** fetch with JSON in and out, for API tests. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(base + path, {
    method,
    headers,
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}
