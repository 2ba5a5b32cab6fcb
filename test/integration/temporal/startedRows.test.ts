/**
 * The pinned Temporal dev server (tools/temporal/_server) writes a run's started visibility row only
 * once the run has been open 2 s: runs that close sooner, as nearly all of a burst's do, get only
 * their close row. Counted by the server's own metrics, against a real dev server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePorts, startStack, type RunningStack } from '../../../src/stack';
import { ownTemporalCli } from '../../../src/stack/binaries';
import { visibilityRowsWritten } from '../../../src/stack/temporalMetrics';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-started-rows-'));
let stack: RunningStack | undefined;

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('when runs close within 2 s of their start, then the dev server writes no started row for them, and a run that stays open is listed as running', async () => {
  if (ownTemporalCli()) return console.warn('skipped: a temporal CLI other than the pinned build is in use');
  const [port, uiPort, metricsPort] = await freePorts(3);
  stack = await startStack({ dataDir, temporal: { port, uiPort, metricsPort }, log: () => {} });
  const rows = async (kind: 'started' | 'closed') =>
    (await visibilityRowsWritten(`http://127.0.0.1:${metricsPort}/metrics`))[kind];

  const connection = await Connection.connect({ address: stack.temporalAddress! });
  try {
    const client = new Client({ connection });
    // The server's own system runs (its scanners), begun at its start, get their started rows about
    // 3 s on: wait until no row has come for 5 s.
    let startedBefore = await rows('started');
    for (let still = 0; still < 5_000; still += 500) {
      await sleep(500);
      const now = await rows('started');
      if (now !== startedBefore) [startedBefore, still] = [now, -500];
    }
    const closedBefore = await rows('closed');
    // No worker takes these runs. The short ones stay open 1 s: longer than the server's 0.5 s
    // between visibility reads, so without the patch each would get a started row.
    const open = 'started-rows-open';
    const short = Array.from({ length: 10 }, (_, i) => `started-rows-short-${i}`);
    for (const workflowId of [open, ...short]) {
      await client.workflow.start('anyWorkflow', { taskQueue: 'no-worker', workflowId });
    }
    await sleep(1_000);
    for (const workflowId of short) await client.workflow.getHandle(workflowId).terminate('closes within 2 s');

    const listedRunning = async () => {
      const query = `WorkflowId = '${open}' AND ExecutionStatus = 'Running'`;
      for await (const run of client.workflow.list({ query })) return run.workflowId;
      return undefined;
    };
    const deadline = Date.now() + 20_000;
    while (!(await listedRunning()) && Date.now() < deadline) await sleep(250);
    expect(await listedRunning()).toBe(open);
    while ((await rows('closed')) - closedBefore < short.length && Date.now() < deadline) await sleep(250);
    expect((await rows('closed')) - closedBefore).toBe(short.length);
    // The short runs' started tasks were retried by now (the open run's, made at the same time, was).
    await sleep(2_000);
    expect((await rows('started')) - startedBefore).toBe(1);
  } finally {
    await connection.close();
  }
}, 120_000);
