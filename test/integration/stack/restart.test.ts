/**
 * The embedded stack keeps its servers running: each one SIGKILLed is started again on its own
 * files, says so in the log, and what it held before is there after. Against a real stack started
 * in a throw-away folder, as `npm start` runs it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import mongoose from 'mongoose';
import { freePorts, startStack, type RunningStack } from '../../../src/stack';
import { until } from '../../support/deliveries';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-stack-restart-'));
const lines: string[] = [];
let stack: RunningStack | undefined;

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The pids of the processes whose command line contains `text`. */
function pidsOf(text: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', '--', text], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** What `attempt` gives, or nothing while it fails (a server still starting), for `until`. */
const settled = <T>(attempt: () => Promise<T>) => attempt().catch(() => undefined);

async function killAndAwaitRestart(name: string, commandLine: string): Promise<void> {
  const before = pidsOf(commandLine);
  expect(before.length).toBeGreaterThan(0);
  for (const pid of before) process.kill(pid, 'SIGKILL');
  await until(
    async () => {
      const after = pidsOf(commandLine);
      const logged = lines.some((l) => l.startsWith(`stack: ${name} exited (SIGKILL); restarting it in 1 s`));
      return logged && after.length > 0 && !after.some((pid) => before.includes(pid));
    },
    60_000,
    `${name} restarted`,
  );
}

test('when Temporal, the store and its PostgreSQL are each SIGKILLed, then each is started again, logged, with its data, and stop() ends them all', async () => {
  const [port, uiPort, storePort] = await freePorts(3);
  stack = await startStack({
    dataDir,
    temporal: { port, uiPort },
    store: { port: storePort },
    log: (line) => lines.push(line),
  });
  const temporalDb = path.join(dataDir, 'temporal.sqlite');

  // Before: a run no worker takes, and a stored document.
  let connection = await Connection.connect({ address: stack.temporalAddress! });
  await new Client({ connection }).workflow.start('anyWorkflow', { taskQueue: 'no-worker', workflowId: 'kept' });
  await connection.close();
  let store = await mongoose.createConnection(stack.mongoUri!, { serverSelectionTimeoutMS: 5000 }).asPromise();
  await store.collection('restart_check').insertOne({ _id: 'kept' as never });
  await store.close();

  await killAndAwaitRestart('temporal', temporalDb);
  const described = await until(
    () =>
      settled(async () => {
        connection = await Connection.connect({ address: stack!.temporalAddress!, connectTimeout: 2000 });
        try {
          return await new Client({ connection }).workflow.getHandle('kept').describe();
        } finally {
          await connection.close();
        }
      }),
    60_000,
    'the run after the restart',
  );
  expect(described.status.name).toBe('RUNNING');

  await killAndAwaitRestart('ferretdb', `-listen-addr 127.0.0.1:${storePort}`);
  const postgresDir = path.join(dataDir, 'postgres');
  // The server (the postmaster), not its wrapper: PostgreSQL's own crash and restart.
  const postmaster = pidsOf(`postgres -D ${postgresDir}`).filter((pid) => {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === 'postgres';
  });
  expect(postmaster).toHaveLength(1);
  process.kill(postmaster[0], 'SIGKILL');
  // Its wrapper (runuser, when run as root) exits with a code rather than the signal.
  await until(async () => lines.some((l) => l.startsWith('stack: postgres exited')), 60_000, 'postgres restarted');
  const found = await until(
    () =>
      settled(async () => {
        store = await mongoose.createConnection(stack!.mongoUri!, { serverSelectionTimeoutMS: 2000 }).asPromise();
        try {
          return await store.collection('restart_check').findOne({ _id: 'kept' as never });
        } finally {
          await store.close();
        }
      }),
    90_000,
    'the document after the restarts',
  );
  expect(found).toEqual({ _id: 'kept' });

  await stack.stop();
  stack = undefined;
  expect(pidsOf(temporalDb)).toEqual([]);
  expect(pidsOf(`-listen-addr 127.0.0.1:${storePort}`)).toEqual([]);
  expect(pidsOf(`postgres -D ${postgresDir}`)).toEqual([]);
}, 240_000);
