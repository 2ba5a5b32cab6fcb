/**
 * What the benches that drive the whole service share (`npm run bench`, `npm run bench:recover`):
 * the embedded stack on free ports in a throw-away folder, the workflow bundle, the service's
 * environment, its child processes with their errors echoed, waiting for the API, and stopping it
 * all, on Ctrl-C too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectDatabase, disconnectDatabase } from '../../src/db/connect';
import { stopChildProcess } from '../../src/process';
import { freePort, freePorts, startStack } from '../../src/stack';
import { waitForTemporal } from '../../src/temporal/client';
import { writeWorkflowBundle } from '../../src/worker/bundle';

const root = path.resolve(__dirname, '../..');

/** A bench's number flag (`--name N`), or the fallback when absent, not a number or not positive. */
export function numberFlag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready`);
}

export interface BenchService {
  /** The dev server's own Prometheus metrics, when asked for. */
  temporalMetricsUrl?: string;
  /** Where the API will listen once a service process runs. */
  apiUrl: string;
  /** Starts a service process (`serviceArgs`: node's arguments) with the bench's environment. */
  spawnService(label: string, serviceArgs: string[]): ChildProcess;
  waitForApi(): Promise<void>;
  /** Stops the service processes, the receiver and the stack, and removes the data folder. */
  stop(): Promise<void>;
}

export async function startBenchService(options: {
  /** Names the data folder and the progress line. */
  name: string;
  receiver: { close(): Promise<unknown> };
  temporalMetrics?: boolean;
  /** Settings of the service's own beyond the bench's defaults. */
  env?: NodeJS.ProcessEnv;
}): Promise<BenchService> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `hookrelay-${options.name}-`));
  console.error(`${options.name}: starting a stack in ${dataDir}…`);
  const [temporalPort, uiPort, storePort, metricsPort] = await freePorts(options.temporalMetrics ? 4 : 3);
  const stack = await startStack({
    dataDir,
    temporal: { port: temporalPort, uiPort, ...(metricsPort && { metricsPort }) },
    store: { port: storePort, database: 'bench' },
  });
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => stopChildProcess(c, 10_000)));
    await disconnectDatabase().catch(() => undefined);
    await options.receiver.close();
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    await waitForTemporal(stack.temporalAddress!);
    const bundlePath = await writeWorkflowBundle(dataDir);
    const apiPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      MONGODB_URI: stack.mongoUri,
      STORE_POSTGRES_URL: stack.storePostgresUrl,
      TEMPORAL_TASK_QUEUE: 'bench',
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      ALLOW_PRIVATE_TARGETS: 'true',
      SMTP_URL: '',
      LOG_LEVEL: 'warn',
      HOOKRELAY_WORKFLOW_BUNDLE: bundlePath,
      HOOKRELAY_PARENT_PID: String(process.pid),
      ...options.env,
    };
    // The bench creates its keys and webhooks through the project's own models.
    await connectDatabase(stack.mongoUri!, stack.storePostgresUrl);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    return {
      temporalMetricsUrl: metricsPort ? `http://127.0.0.1:${metricsPort}/metrics` : undefined,
      apiUrl,
      spawnService(label, serviceArgs) {
        const child = spawn(process.execPath, serviceArgs, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
        child.stderr!.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString().split('\n')) {
            if (line.includes('"level":"error"') || line.startsWith('Error')) console.error(`[${label}] ${line}`);
          }
        });
        children.push(child);
        return child;
      },
      waitForApi: () => waitFor('the API', async () => (await fetch(`${apiUrl}/readyz`)).status === 200),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
