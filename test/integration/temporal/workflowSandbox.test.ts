/**
 * The workflow sandbox as patched in patches/@temporalio+worker+*.patch, against the suite's real
 * Temporal server: no vm timeout (and watchdog thread) per call into the sandbox, but a stall
 * watch per workflow thread that stops the worker when a workflow never yields; and no stack
 * trace per promise unless WORKFLOW_STACK_TRACES=true; runs that switch in the shared sandbox
 * swap only their activator while no run has set or deleted a global, all globals once one has;
 * and payloads are walked for codecs only when there is one.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { installTestRuntime } from '../../support/harness';

const workflowsPath = require.resolve('../../fixtures/workflows/sandbox');
let bundle: WorkflowBundle;
let connection: NativeConnection;
let client: Client;

beforeAll(async () => {
  installTestRuntime();
  bundle = await bundleWorkflowCode({
    workflowsPath,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  client = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS }) });
});

afterAll(async () => {
  await client.connection.close();
  await connection.close();
});

const taskQueue = () => `sandbox-${crypto.randomBytes(4).toString('hex')}`;

test('a workflow that never yields stops its worker within the isolate timeout (5 s), with a message that says so', async () => {
  const queue = taskQueue();
  const worker = await Worker.create({
    connection,
    taskQueue: queue,
    workflowBundle: bundle,
  });
  const running = worker.run();
  const handle = await client.workflow.start('stuckWorkflow', { taskQueue: queue, workflowId: `stuck-${queue}` });
  const started = Date.now();
  try {
    await expect(running).rejects.toThrow(
      /answered nothing for 5000 ms with \d+ requests? waiting: a workflow is stuck/,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  } finally {
    await handle.terminate('test over').catch(() => undefined);
  }
});

/** A waiting run's `__stack_trace`, from a worker process started with `env` added to ours. */
async function stackTraceOfWaitingRun(env: Record<string, string>): Promise<string> {
  const queue = taskQueue();
  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', require.resolve('../../fixtures/workflows/sandboxWorker')],
    {
      env: { ...process.env, ...env, TASK_QUEUE: queue },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      worker.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      worker.once('exit', (code) => reject(new Error(`the worker exited (${code}) before it was ready`)));
    });
    const handle = await client.workflow.start('waitingWorkflow', { taskQueue: queue, workflowId: `waiting-${queue}` });
    try {
      return await handle.query<string>('__stack_trace');
    } finally {
      await handle.terminate('test over');
    }
  } finally {
    worker.kill('SIGKILL');
  }
}

test('no stack traces of pending promises by default; WORKFLOW_STACK_TRACES=true brings them back', async () => {
  await expect(stackTraceOfWaitingRun({ WORKFLOW_STACK_TRACES: '' })).rejects.toThrow(/stack traces are not enabled/);
  expect(await stackTraceOfWaitingRun({ WORKFLOW_STACK_TRACES: 'true' })).toMatch(/waitingWorkflow/);
});

/** Runs `workflowType` once per args on one fresh worker (so all share its sandbox); their results. */
async function runSharingOneSandbox(workflowType: string, argsPerRun: unknown[][]): Promise<unknown[]> {
  const queue = taskQueue();
  const worker = await Worker.create({ connection, taskQueue: queue, workflowBundle: bundle });
  return worker.runUntil(async () => {
    const handles = await Promise.all(
      argsPerRun.map((args, i) =>
        client.workflow.start(workflowType, { taskQueue: queue, workflowId: `${workflowType}-${i}-${queue}`, args }),
      ),
    );
    return Promise.all(handles.map((h) => h.result()));
  });
}

test('a global one run sets is not seen by the other runs sharing the sandbox, before or after it switches', async () => {
  const values = Array.from({ length: 6 }, (_, i) => `run-${i}`);
  const results = await runSharingOneSandbox(
    'globalWritingWorkflow',
    values.map((value) => [value]),
  );
  expect(results).toEqual(values.map((value) => ({ atStart: undefined, atEnd: value })));
});

test('a built-in one run deletes stays deleted for that run only', async () => {
  const deletes = [true, false, false, false, false, false];
  const results = await runSharingOneSandbox(
    'builtinDeletingWorkflow',
    deletes.map((d) => [d]),
  );
  expect(results).toEqual(deletes.map((d) => ({ atStart: 'function', atEnd: d ? 'undefined' : 'function' })));
});

/** Wraps each payload whole in one of its own encoding, and refuses to decode anything else. */
const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
const wrappingCodec: PayloadCodec = {
  async encode(payloads) {
    return payloads.map((p) => ({
      metadata: { encoding: Buffer.from('binary/sandbox-test') },
      data: Buffer.from(
        JSON.stringify({
          metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, base64(v)])),
          data: base64(p.data),
        }),
      ),
    }));
  },
  async decode(payloads) {
    return payloads.map((p) => {
      if (Buffer.from(p.metadata?.encoding ?? []).toString() !== 'binary/sandbox-test') {
        throw new Error('a payload the codec did not encode');
      }
      const { metadata, data } = JSON.parse(Buffer.from(p.data!).toString()) as {
        metadata: Record<string, string>;
        data: string;
      };
      return {
        metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        data: Buffer.from(data, 'base64'),
      };
    });
  },
};

test('a worker with a payload codec still decodes activations and encodes completions with it', async () => {
  const queue = taskQueue();
  const dataConverter = { payloadCodecs: [wrappingCodec] };
  const codecClient = new Client({ connection: client.connection, dataConverter });
  const worker = await Worker.create({ connection, taskQueue: queue, workflowBundle: bundle, dataConverter });
  // The argument reaches the workflow only if the worker decoded it, and the client decodes the
  // result only if the worker encoded it.
  const result = await worker.runUntil(
    codecClient.workflow.execute('globalWritingWorkflow', {
      taskQueue: queue,
      workflowId: `codec-${queue}`,
      args: ['coded'],
    }),
  );
  expect(result).toEqual({ atEnd: 'coded' });
});
