/**
 * `npm run fuzz`: Schemathesis against the running API. Starts a throw-away embedded stack and the
 * service (API and worker, `src/service`, as `npm start` runs it), makes an owner key with the
 * admin code, and runs Schemathesis on `/openapi.json` with that key through a counting relay:
 * every generated request must get no 5xx, and a status, content type and body the document
 * allows. Prints how many requests were made and what came back; exits non-zero on a failure.
 *
 * Schemathesis (PyPI) is installed on first run into `<HOOKRELAY_CACHE_DIR>/schemathesis-venv`
 * (default ~/.cache/hookrelay), outside the repository. `FUZZ_MAX_EXAMPLES` (per operation,
 * default 25) and `FUZZ_SEED` bound and fix a run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createKey } from '../src/admin/commands';
import { connectDatabase, disconnectDatabase } from '../src/db/connect';
import { freePorts, startStack } from '../src/stack';
import { cacheDir, ensureJsonnetEvaluator } from '../src/stack/binaries';
import { waitForTemporal } from '../src/temporal/client';

const root = path.resolve(__dirname, '..');
const SCHEMATHESIS_VERSION = '4.32.5';
const CHECKS = [
  'not_a_server_error',
  'response_schema_conformance',
  'status_code_conformance',
  'content_type_conformance',
];

/** The venv's `schemathesis`, installed at the pinned version when missing. */
function ensureSchemathesis(): string {
  const venv = path.join(cacheDir(), 'schemathesis-venv');
  const bin = path.join(venv, 'bin', 'schemathesis');
  const version = fs.existsSync(bin) ? spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout : '';
  if (version.includes(SCHEMATHESIS_VERSION)) return bin;
  console.error(`installing schemathesis ${SCHEMATHESIS_VERSION} into ${venv} (first run only)…`);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
  };
  if (!fs.existsSync(path.join(venv, 'bin', 'pip'))) run('python3', ['-m', 'venv', venv]);
  run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  return bin;
}

interface Tally {
  total: number;
  byStatus: Map<number, number>;
  serverErrors: string[];
}

/**
 * A relay in front of the API that counts what the fuzzer sent and what came back (Schemathesis's
 * own summary counts test cases, not requests).
 */
function countingRelay(apiPort: number, tally: Tally): http.Server {
  return http.createServer((req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: apiPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const status = answer.statusCode ?? 0;
        tally.total++;
        tally.byStatus.set(status, (tally.byStatus.get(status) ?? 0) + 1);
        if (status >= 500) tally.serverErrors.push(`${status} ${req.method} ${req.url?.split('?')[0]}`);
        res.writeHead(status, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      tally.total++;
      tally.serverErrors.push(`no answer: ${req.method} ${req.url?.split('?')[0]}: ${err.message}`);
      res.destroy();
    });
    req.pipe(upstream);
  });
}

async function waitReady(url: string, service: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.exitCode !== null) throw new Error(`the service exited (${service.exitCode}) before it was ready`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready within ${timeoutMs / 1000} s`);
}

async function main(): Promise<number> {
  const schemathesis = ensureSchemathesis();
  const reportDir = path.join(root, 'test-artifacts', 'fuzz');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-fuzz-'));
  const [temporalPort, uiPort, storePort, apiPort, relayPort] = await freePorts(5);
  const t0 = Date.now();
  const stack = await startStack({
    dataDir,
    temporal: { port: temporalPort, uiPort },
    store: { port: storePort, database: 'fuzz' },
  });
  let service: ChildProcess | undefined;
  let relay: http.Server | undefined;
  const cleanup = async () => {
    if (service && service.exitCode === null) {
      service.kill('SIGTERM');
      await new Promise((r) => service!.once('exit', r));
    }
    relay?.close();
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));
  try {
    await Promise.all([waitForTemporal(stack.temporalAddress!), ensureJsonnetEvaluator()]);
    await connectDatabase(stack.mongoUri!, stack.storePostgresUrl);
    const key = await createKey({ org: 'fuzz', role: 'owner', permissions: [], teams: ['fuzz-team'] });
    await disconnectDatabase();

    fs.mkdirSync(reportDir, { recursive: true });
    const serviceLog = fs.openSync(path.join(reportDir, 'service.log'), 'w');
    service = spawn(process.execPath, ['--import', 'tsx', 'scripts/lib/fuzzService.ts'], {
      cwd: root,
      // The service's log (and the Temporal SDK's warnings under load) goes to a file, not between
      // the fuzzer's lines.
      stdio: ['ignore', serviceLog, serviceLog],
      env: {
        ...process.env,
        PORT: String(apiPort),
        HOST: '127.0.0.1',
        TEMPORAL_ADDRESS: stack.temporalAddress,
        MONGODB_URI: stack.mongoUri,
        STORE_POSTGRES_URL: stack.storePostgresUrl,
        // Made-up URLs are refused as they would be in production; the guard keeps the rest local.
        ALLOW_PRIVATE_TARGETS: 'false',
        // One client address sends everything, including keys the fuzzer mangles.
        AUTH_FAILURE_LIMIT: '0',
        // The whole stack shares the machine (2 cores in CI) with the fuzzer, and every event it
        // posts fans out to every webhook it created: past 4 s a request would be answered 503 by
        // design (load shedding, documented), which is not what this run looks for.
        REQUEST_DEADLINE_MS: process.env.REQUEST_DEADLINE_MS || '15000',
        LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
      },
    });
    await waitReady(`http://127.0.0.1:${apiPort}/readyz`, service);
    const tally: Tally = { total: 0, byStatus: new Map(), serverErrors: [] };
    relay = countingRelay(apiPort, tally);
    await new Promise<void>((r) => relay!.listen(relayPort, '127.0.0.1', r));
    console.error(`fuzz stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; running schemathesis…`);

    const args = [
      'run',
      `http://127.0.0.1:${relayPort}/openapi.json`,
      '--url',
      `http://127.0.0.1:${relayPort}`,
      '--header',
      `Authorization: Bearer ${key}`,
      '--checks',
      CHECKS.join(','),
      '--max-examples',
      process.env.FUZZ_MAX_EXAMPLES || '25',
      // One worker: with two, Hypothesis's source inspection raced in CPython 3.11 ("AST
      // constructor recursion depth mismatch"), an error of the fuzzer, not of the API.
      '--workers',
      '1',
      '--request-timeout',
      '15',
      '--suppress-health-check',
      'all',
      ...(process.env.FUZZ_SEED ? ['--seed', process.env.FUZZ_SEED] : []),
    ];
    const started = Date.now();
    const code = await new Promise<number>((resolve) => {
      const child = spawn(schemathesis, args, { stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } });
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
    const statuses = [...tally.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
    console.log(
      `\nfuzz: ${tally.total} requests in ${((Date.now() - started) / 1000).toFixed(0)} s (${statuses.join(', ')})`,
    );
    const distinct = [...new Set(tally.serverErrors)];
    if (distinct.length) console.log(`fuzz: ${tally.serverErrors.length} server errors:\n  ${distinct.join('\n  ')}`);
    console.log(
      `fuzz: schemathesis ${code === 0 ? 'passed' : `failed (exit ${code})`}; the service's log is in ${reportDir}`,
    );
    return code !== 0 || tally.serverErrors.length ? 1 : 0;
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
