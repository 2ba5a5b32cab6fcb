import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { restartDelay } from '../process';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../shared/searchAttributes';
import { ensureFerretDb, ensureTemporalCli, ensureTemporalSqliteTool, findMongod } from './binaries';
import {
  MISSING_POSTGRES,
  findPostgresBinDir,
  initCluster,
  postgresArgs,
  postgresUrl,
  directPostgresUrl,
  prepareCluster,
  waitForPostgres,
} from './postgres';

/** Runs a Go tool to its end; its stderr is in the error when it fails. */
const execFileAsync = promisify(execFile);

/**
 * tools/temporal-sqlite only saves the dev server work: when it cannot be built or run, the server
 * makes (or keeps) its file with every index, and says so.
 */
function skipSqliteTool(err: unknown, log: (line: string) => void): undefined {
  const reason = err instanceof Error ? ((err as { stderr?: string }).stderr || err.message).trim() : String(err);
  log(`stack: Temporal's SQLite file keeps all its visibility indexes: ${reason}`);
  return undefined;
}

/**
 * The embedded stack: the Temporal dev server (SQLite file, Web UI) and a MongoDB-compatible store
 * (FerretDB on a private PostgreSQL cluster, or a `mongod` on PATH; FerretDB on SQLite files when
 * HOOKRELAY_EMBEDDED_STORE=sqlite), on 127.0.0.1, with their state under `dataDir`.
 * Used by `npm start`, `npm test` and `npm run bench`; production points TEMPORAL_ADDRESS and
 * MONGODB_URI at real clusters instead.
 */
export interface StackOptions {
  dataDir: string;
  /**
   * Start the Temporal dev server on these ports; omit when TEMPORAL_ADDRESS points elsewhere.
   * `metricsPort`: the server's own Prometheus metrics there (the bench reads its visibility rows).
   */
  temporal?: { port: number; uiPort: number; metricsPort?: number };
  /**
   * Start the store on this port; omit when MONGODB_URI points elsewhere. `backend`: FerretDB's
   * (default: HOOKRELAY_EMBEDDED_STORE, else PostgreSQL); the store migration opens both.
   */
  store?: { port: number; database?: string; backend?: 'postgresql' | 'sqlite' };
  log?: (line: string) => void;
}

export interface RunningStack {
  temporalAddress?: string;
  temporalUiUrl?: string;
  mongoUri?: string;
  /** The PostgreSQL under the embedded store (STORE_POSTGRES_URL), when it runs on one. */
  storePostgresUrl?: string;
  stop(): Promise<void>;
}

/**
 * `count` distinct free ports on 127.0.0.1. All are held open until all are chosen: picked one at
 * a time, the OS handed the same port out twice (Temporal and FerretDB then raced for it).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.unref();
          server.on('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export const freePort = async (): Promise<number> => (await freePorts(1))[0];

async function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface ManagedProcess {
  name: string;
  /** The running process; a new one after a restart. */
  child: ChildProcess;
  /** Starts the same command again. */
  spawn: () => ChildProcess;
  logFile: string;
  /** PostgreSQL: SIGINT is its fast shutdown (SIGTERM waits for clients to leave). */
  stopSignal?: NodeJS.Signals;
}

/**
 * The Go servers' garbage collector runs when the heap has grown 400% past what is live, not 100%:
 * at 20 events/s Temporal's CPU per event fell 22.9 → 20.1 ms and FerretDB's 5.1 → 4.0 ms, for
 * Temporal's memory during a burst going 277 → 514 MB. A GOGC in the environment wins.
 */
/**
 * Half the machine's cores each (at least one) for the Go servers' schedulers: they share the
 * machine with the Node process, and on 2 cores Go's idle-processor spinning and hand-offs cost
 * more than a second processor gave. On 2 cores, GOMAXPROCS=1 took a burst of 2,000 events from
 * 40.4 to 37.9 ms per event (Temporal 14.3 → 12.9 ms) and 41 → 44 events/s. GOMAXPROCS wins.
 */
const GO_SERVER_ENV: NodeJS.ProcessEnv = {
  GOGC: process.env.GOGC ?? '400',
  GOMAXPROCS: process.env.GOMAXPROCS ?? String(Math.max(1, Math.floor(os.availableParallelism() / 2))),
};

function startProcess(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  env?: NodeJS.ProcessEnv,
): ManagedProcess {
  const start = () => {
    const out = fs.openSync(logFile, 'a');
    // detached: its own process group, so stop() can end the server and anything it started.
    const child = spawn(command, args, {
      stdio: ['ignore', out, out],
      detached: true,
      env: { ...process.env, ...env },
    });
    fs.closeSync(out);
    return child;
  };
  return { name, child: start(), spawn: start, logFile };
}

/**
 * Once the stack is up, a server that dies (a crash, the OOM killer, a stray SIGKILL) is started
 * again with backoff, and the log says so, until the stack stops. Its state is in its files, and
 * the service's clients reconnect on their own.
 */
function keepRunning(proc: ManagedProcess, stopping: () => boolean, log: (line: string) => void): void {
  let startedAt = Date.now();
  let lastDelayMs: number | undefined;
  const watch = () =>
    proc.child.once('exit', (code, signal) => {
      if (stopping()) return;
      const delay = restartDelay(lastDelayMs, Date.now() - startedAt);
      lastDelayMs = delay;
      log(
        `stack: ${proc.name} exited (${signal ?? `code ${code}`}); restarting it in ${delay / 1000} s (log ${proc.logFile})`,
      );
      setTimeout(() => {
        if (stopping()) return;
        proc.child = proc.spawn();
        startedAt = Date.now();
        watch();
      }, delay).unref();
    });
  watch();
}

async function waitForPort(proc: ManagedProcess, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) break;
    if (await portIsOpen(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = fs.existsSync(proc.logFile) ? fs.readFileSync(proc.logFile, 'utf8').slice(-3000) : '';
  throw new Error(`${proc.name} did not start listening on 127.0.0.1:${port} (log ${proc.logFile}):\n${tail}`);
}

async function stopProcess(proc: ManagedProcess, graceMs = 10_000): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  signalGroup(proc.stopSignal ?? 'SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Whether `dataDir` holds the SQLite files of FerretDB's SQLite backend (the embedded store before PostgreSQL). */
export function hasSqliteStore(dataDir: string): boolean {
  const dir = path.join(dataDir, 'ferretdb');
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.sqlite'));
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const log = options.log ?? ((line: string) => console.error(line));
  const logs = path.join(options.dataDir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const started: ManagedProcess[] = [];
  let stopping = false;
  // PostgreSQL goes last: FerretDB still holds connections to it until it has stopped.
  const stop = async () => {
    stopping = true;
    await Promise.all(started.filter((p) => p.name !== 'postgres').map((p) => stopProcess(p)));
    await Promise.all(started.filter((p) => p.name === 'postgres').map((p) => stopProcess(p)));
  };
  const running: RunningStack = { stop };

  // Both builds (first run on a machine only) overlap: most of their time is module downloads.
  const mongod = options.store ? findMongod() : undefined;
  const sqlite = (options.store?.backend ?? process.env.HOOKRELAY_EMBEDDED_STORE) === 'sqlite';
  const pgBinDir = options.store && !mongod && !sqlite ? findPostgresBinDir() : undefined;
  if (options.store && !mongod && !sqlite && !pgBinDir) throw new Error(MISSING_POSTGRES);
  const [temporalBin, temporalSqliteTool, ferretBin] = await Promise.all([
    options.temporal ? ensureTemporalCli() : undefined,
    options.temporal ? ensureTemporalSqliteTool().catch((err: unknown) => skipSqliteTool(err, log)) : undefined,
    options.store && !mongod ? ensureFerretDb() : undefined,
  ]);

  // A server already on one of the ports would answer in place of ours: this stack would then use
  // another instance's Temporal or data without a word.
  const ports = [options.temporal?.port, options.temporal?.uiPort, options.store?.port].filter((p) => p !== undefined);
  for (const port of ports) {
    if (await portIsOpen(port)) {
      throw new Error(
        `port ${port} on 127.0.0.1 is already in use (another hookrelay, or another server): stop it, or choose ` +
          'other ports (npm start reads TEMPORAL_PORT, TEMPORAL_UI_PORT and MONGODB_PORT)',
      );
    }
  }

  try {
    const waits: Promise<void>[] = [];
    if (options.temporal) {
      const { port, uiPort, metricsPort } = options.temporal;
      const temporalDb = path.join(options.dataDir, 'temporal.sqlite');
      if (temporalSqliteTool)
        await execFileAsync(temporalSqliteTool, [temporalDb]).catch((err) => skipSqliteTool(err, log));
      const temporal = startProcess(
        'temporal',
        temporalBin!,
        [
          'server',
          'start-dev',
          '--ip',
          '127.0.0.1',
          '--port',
          String(port),
          '--ui-port',
          String(uiPort),
          '--db-filename',
          temporalDb,
          '--log-level',
          'warn',
          '--dynamic-config-value',
          'frontend.enableServerVersionCheck=false',
          // Eager activity execution: a completed workflow task hands its activity straight back to
          // the worker that scheduled it, skipping a match and a poll on the task queue.
          '--dynamic-config-value',
          'system.enableActivityEagerExecution=true',
          // Eager workflow start: a start from a client that shares a worker's connection (npm
          // start's one process) gets the first workflow task in its answer.
          '--dynamic-config-value',
          'system.enableEagerWorkflowStart=true',
          // The dev server re-reads its search attributes from SQLite on every use (so that ones added
          // at run time show at once); ours are registered at start, so the cache may stand.
          '--dynamic-config-value',
          'system.forceSearchAttributesCacheRefreshOnRead=false',
          // Visibility tasks read at most twice a second (default 20): a run that has closed by then
          // gets no upsert row, only its close row (the server skips those tasks for closed runs; the
          // pinned build also holds each started row back 2 s, see tools/temporal), and each
          // visibility row costs the dev server's SQLite dozens of index updates. Each read takes up to
          // a batch, so reads × batch bounds the tasks per second: 1,000 (default 100) keeps that
          // at 2,000/s, far above the 4 tasks per event.
          '--dynamic-config-value',
          'history.visibilityProcessorMaxPollRPS=2',
          '--dynamic-config-value',
          'history.visibilityTaskBatchSize=1000',
          // WAL roughly doubles workflow starts per second on the SQLite file (measured 56 → 103/s).
          '--sqlite-pragma',
          'journal_mode=wal',
          '--sqlite-pragma',
          'synchronous=normal',
          ...SEARCH_ATTRIBUTE_REGISTRATIONS.flatMap((sa) => ['--search-attribute', sa]),
          ...(metricsPort ? ['--metrics-port', String(metricsPort)] : []),
        ],
        path.join(logs, 'temporal.log'),
        { ...GO_SERVER_ENV, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
      );
      started.push(temporal);
      waits.push(waitForPort(temporal, port, 60_000).then(() => waitForPort(temporal, uiPort, 30_000)));
      running.temporalAddress = `127.0.0.1:${port}`;
      running.temporalUiUrl = `http://127.0.0.1:${uiPort}`;
    }
    if (options.store) {
      const { port, database = 'hookrelay' } = options.store;
      let store: ManagedProcess;
      if (mongod) {
        const storeDir = path.join(options.dataDir, 'mongod');
        fs.mkdirSync(storeDir, { recursive: true });
        store = startProcess(
          'mongod',
          mongod,
          ['--bind_ip', '127.0.0.1', '--port', String(port), '--dbpath', storeDir],
          path.join(logs, 'mongod.log'),
        );
      } else if (pgBinDir) {
        const clusterDir = path.join(options.dataDir, 'postgres');
        await initCluster(pgBinDir, clusterDir);
        const [pgCommand, pgArgs] = postgresArgs(pgBinDir, clusterDir);
        const postgres: ManagedProcess = startProcess('postgres', pgCommand, pgArgs, path.join(logs, 'postgres.log'));
        postgres.stopSignal = 'SIGINT';
        started.push(postgres);
        const alive = () => postgres.child.exitCode === null && postgres.child.signalCode === null;
        await waitForPostgres(pgBinDir, clusterDir, alive).catch(() => {
          const tail = fs.readFileSync(postgres.logFile, 'utf8').slice(-3000);
          throw new Error(`PostgreSQL did not start (log ${postgres.logFile}):\n${tail}`);
        });
        // Indexes missing from a cluster made by an earlier version are built here, once: on a
        // large store that takes a while, so it is said.
        const indexing = setTimeout(() => log('stack: building store indexes (once after an upgrade)…'), 2000);
        await prepareCluster(pgBinDir, clusterDir).finally(() => clearTimeout(indexing));
        if (hasSqliteStore(options.dataDir)) {
          log(
            `\n*** ${path.join(options.dataDir, 'ferretdb')} holds a store from before the PostgreSQL one (FerretDB on ` +
              'SQLite): its webhooks, keys and logs are not in use. Move them with `npm run migrate-store` ' +
              '(with the service stopped), or set HOOKRELAY_EMBEDDED_STORE=sqlite to keep using it. ***\n',
          );
        }
        store = startProcess(
          'ferretdb',
          ferretBin!,
          ['-listen-addr', `127.0.0.1:${port}`, '-postgresql-url', postgresUrl(clusterDir)],
          path.join(logs, 'ferretdb.log'),
          GO_SERVER_ENV,
        );
        running.storePostgresUrl = directPostgresUrl(clusterDir);
      } else {
        const storeDir = path.join(options.dataDir, 'ferretdb');
        fs.mkdirSync(storeDir, { recursive: true });
        store = startProcess(
          'ferretdb',
          ferretBin!,
          ['-listen-addr', `127.0.0.1:${port}`, '-data-dir', storeDir],
          path.join(logs, 'ferretdb.log'),
          GO_SERVER_ENV,
        );
      }
      started.push(store);
      waits.push(waitForPort(store, port, 30_000));
      running.mongoUri = `mongodb://127.0.0.1:${port}/${database}`;
    }
    await Promise.all(waits);
    for (const proc of started) keepRunning(proc, () => stopping, log);
    log(`stack: server logs in ${logs}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return running;
}
