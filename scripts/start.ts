/**
 * `npm start`: the whole service on one machine. Starts the embedded Temporal dev server and
 * store (unless TEMPORAL_ADDRESS / MONGODB_URI point elsewhere), then the API and a worker in one
 * child process (src/service; HOOKRELAY_SEPARATE_PROCESSES=true runs them as two), restarts a
 * crashed child with backoff, and stops everything it started on Ctrl-C only. `--production` (or
 * NODE_ENV=production) runs the compiled dist/ with its prebuilt workflow bundle, building it
 * first when it is missing or older than src/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { restartDelay, stopChildProcess } from '../src/process';
import { Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../src/config';
import { startStack, type RunningStack } from '../src/stack';
import { temporalConnectionOptions, waitForTemporal } from '../src/temporal/client';
import { build, buildIsCurrent, serviceProcessArgs } from './build';

const root = path.resolve(__dirname, '..');
const production = process.argv.includes('--production') || process.env.NODE_ENV === 'production';

async function main() {
  if (production && !buildIsCurrent()) await build();
  const dataDir = path.resolve(process.env.HOOKRELAY_DATA_DIR || path.join(root, '.data'));
  const external = { temporal: !!process.env.TEMPORAL_ADDRESS, store: !!process.env.MONGODB_URI };
  const stack: RunningStack = await startStack({
    dataDir,
    temporal: external.temporal
      ? undefined
      : { port: Number(process.env.TEMPORAL_PORT || 7233), uiPort: Number(process.env.TEMPORAL_UI_PORT || 8233) },
    store: external.store ? undefined : { port: Number(process.env.MONGODB_PORT || 27017) },
  });
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.error('stopping…');
    await Promise.all(children.map((c) => stopChildProcess(c, 15_000)));
    await stack.stop();
    process.exit(code);
  };
  /** Runs `entry` as a child and starts it again when it dies, waiting longer after each quick death. */
  const supervise = (name: 'api' | 'worker' | 'service', env: NodeJS.ProcessEnv, lastDelayMs?: number) => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, serviceProcessArgs(name, production), { cwd: root, env, stdio: 'inherit' });
    children.push(child);
    child.on('exit', (code, signal) => {
      children.splice(children.indexOf(child), 1);
      if (stopping) return;
      const delay = restartDelay(lastDelayMs, Date.now() - startedAt);
      console.error(`${name} exited (${signal ?? `code ${code}`}); restarting it in ${delay / 1000} s`);
      setTimeout(() => {
        if (!stopping) supervise(name, env, delay);
      }, delay).unref();
    });
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS || stack.temporalAddress,
      MONGODB_URI: process.env.MONGODB_URI || stack.mongoUri,
      STORE_POSTGRES_URL: process.env.MONGODB_URI ? process.env.STORE_POSTGRES_URL : stack.storePostgresUrl,
      // The console links runs to the embedded UI on whatever port it was given.
      ...(process.env.TEMPORAL_UI_URL || !stack.temporalUiUrl ? {} : { TEMPORAL_UI_URL: stack.temporalUiUrl }),
      HOOKRELAY_PARENT_PID: String(process.pid),
    };
    const config = loadConfig(env);
    await waitForTemporal(temporalConnectionOptions(config), config.TEMPORAL_NAMESPACE);
    const names =
      process.env.HOOKRELAY_SEPARATE_PROCESSES === 'true' ? (['api', 'worker'] as const) : (['service'] as const);
    for (const name of names) supervise(name, env);
    const api = `http://${config.HOST}:${config.PORT}`;
    console.log(
      [
        '',
        'hookrelay is starting:',
        `  API          ${api}  (try: curl ${api}/readyz)`,
        `  Console      ${api}/console`,
        `  Temporal UI  ${stack.temporalUiUrl ?? '(external Temporal: see its own UI)'}`,
        `  Temporal     ${config.TEMPORAL_ADDRESS}  namespace ${config.TEMPORAL_NAMESPACE}`,
        `  Store        ${config.MONGODB_URI.replace(/\/\/[^@/]*@/, '//***@')}`,
        `  Data         ${dataDir}`,
        'Press Ctrl-C to stop everything.',
        '',
      ].join('\n'),
    );
    console.log(
      (await waitUntilServing(api, config, 120_000))
        ? `hookrelay is ready: the API answers and a worker polls task queue ${config.TEMPORAL_TASK_QUEUE}.`
        : `hookrelay is not ready after 2 minutes: see the API and worker output above (and ${api}/readyz).`,
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    await stopAll(1);
  }
}

/** Whether, within `timeoutMs`, /readyz answers 200 and a worker polls the task queue (what "ready" means to a user). */
async function waitUntilServing(api: string, config: Config, timeoutMs: number): Promise<boolean> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const ready = await fetch(`${api}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      const polled = await connection.workflowService
        .describeTaskQueue({
          namespace: config.TEMPORAL_NAMESPACE,
          taskQueue: { name: config.TEMPORAL_TASK_QUEUE },
          taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
        })
        .then(
          (r) => Boolean(r.pollers?.length),
          () => false,
        );
      if (ready && polled) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
