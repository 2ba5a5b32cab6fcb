/**
 * The embedded Temporal dev server's SQLite file, as tools/temporal-sqlite prepares it: the schema
 * the server would make, without the visibility indexes nothing here searches by, and the keyword
 * columns' indexes partial. Against a real dev server started on that file in a throw-away folder.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePorts, startStack, type RunningStack } from '../../../src/stack';
import { SA_EVENT_ID } from '../../../src/shared/searchAttributes';
import { ensureTemporalSqliteTool } from '../../../src/stack/binaries';

const KEPT = [
  'by_execution_time',
  // Partial: a row costs no entry in the index of a keyword column it leaves empty.
  ...Array.from({ length: 10 }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return `by_keyword_${n} WHERE Keyword${n} IS NOT NULL`;
  }),
  'by_status',
  'by_task_queue',
  'by_workflow_id',
  'by_workflow_type',
  'default_idx',
  'sqlite_autoindex_executions_visibility_1',
];

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-temporal-sqlite-'));
let tool: string | undefined;
let stack: RunningStack | undefined;

beforeAll(async () => {
  tool = await ensureTemporalSqliteTool();
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const indexes = (file: string) => execFileSync(tool!, ['--list', file], { encoding: 'utf8' }).trim().split('\n');

test('when the embedded stack starts Temporal on a new data folder, then its visibility table keeps only the searched indexes, those of keyword columns partial, and the server lists runs by a column whose index is gone and by a keyword', async () => {
  // With a `temporal` of the user's own (on PATH), the server makes its file itself: nothing to check.
  if (!tool) return console.warn('skipped: a temporal CLI other than the pinned build is in use');
  const [port, uiPort] = await freePorts(2);
  stack = await startStack({ dataDir, temporal: { port, uiPort }, log: () => {} });
  const file = path.join(dataDir, 'temporal.sqlite');
  expect(indexes(file)).toEqual(KEPT);

  const connection = await Connection.connect({ address: stack.temporalAddress! });
  try {
    const client = new Client({ connection });
    // A run no worker takes: it stays open, and its started row is written.
    await client.workflow.start('anyWorkflow', {
      taskQueue: 'no-worker',
      workflowId: 'sqlite-file-check',
      typedSearchAttributes: [{ key: SA_EVENT_ID, value: 'sqlite-file-event' }],
    });
    // RootWorkflowId's index was dropped: the query reads the table instead, and still finds the run.
    const listed = async (query: string) => {
      const ids: string[] = [];
      for await (const run of client.workflow.list({ query })) ids.push(run.workflowId);
      return ids;
    };
    const byRoot = "RootWorkflowId = 'sqlite-file-check'";
    let ids = await listed(byRoot);
    for (const started = Date.now(); ids.length === 0 && Date.now() - started < 15_000; ids = await listed(byRoot)) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(ids).toEqual(['sqlite-file-check']);
    // A keyword search attribute, through its column's partial index.
    expect(await listed("WebhookEventId = 'sqlite-file-event'")).toEqual(['sqlite-file-check']);
  } finally {
    await connection.close();
  }

  // Again on the file that is there now (the next start): nothing to create, the same indexes.
  await stack.stop();
  stack = undefined;
  execFileSync(tool, [file]);
  expect(indexes(file)).toEqual(KEPT);
}, 120_000);
