import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createApiKey } from '../../../src/access/keys';
import { AttemptInFlight } from '../../../src/db/deliveryLog';
import { INTERRUPTED } from '../../../src/delivery/attempt';
import type { Config } from '../../../src/config';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, freshEvent, logsOf, postEvent } from '../../support/deliveries';
import { startHarness, testConfig, type Harness } from '../../support/harness';

const root = path.resolve(__dirname, '../../..');

/** `npm run worker` as a child process on the test's database and task queue; resolves once it polls. */
async function spawnWorker(config: Config): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      MONGODB_URI: config.MONGODB_URI,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      DELIVERY_TIMEOUT_MS: String(config.DELIVERY_TIMEOUT_MS),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"worker polling"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${output}`)));
  });
  return child;
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

describe('eventDeliveryWorkflow when its worker is killed', () => {
  // The activity's start-to-close timeout is DELIVERY_TIMEOUT_MS + 5 s: how long Temporal waits
  // before it gives a lost attempt to another worker.
  const config = testConfig({ DELIVERY_TIMEOUT_MS: '2000' });
  let h: Harness;
  let receiver: Receiver;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    h = await startHarness(config);
    let holdFirst = true;
    receiver = await startReceiver((req) => {
      if (req.path === '/held' && holdFirst) {
        holdFirst = false;
        return 'hold';
      }
      return { status: 200 };
    });
  });
  afterAll(async () => {
    await stopChild(worker, 'SIGTERM');
    await receiver?.close();
    await h?.close();
  });

  test('when the worker is SIGKILLed while a receiver holds a request open, then after a restart every delivery completes and the interrupted attempt is logged', async () => {
    const owner = await createApiKey({ org: 'acme', role: 'owner' });
    const held = await createWebhook(owner.organizationId, { urls: [{ url: `${receiver.url}/held`, method: 'POST' }] });
    const other = await createWebhook(owner.organizationId, {
      urls: [{ url: `${receiver.url}/other`, method: 'POST' }],
    });

    worker = await spawnWorker(config);
    const first = await postEvent(h.api, owner.key, freshEvent());
    expect(first.status).toBe(202);
    await receiver.waitForRequests(2); // /held (held open) and /other
    expect(receiver.requests.map((r) => r.path).sort()).toEqual(['/held', '/other']);
    // A first attempt is marked in flight once it has run for a second (fast ones never are).
    const deadline = Date.now() + 10_000;
    while ((await AttemptInFlight.countDocuments({ webhookId: held.id })) === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }

    await stopChild(worker, 'SIGKILL');
    // Events accepted while no worker runs wait in Temporal.
    const later = await Promise.all([freshEvent(), freshEvent()].map((e) => postEvent(h.api, owner.key, e)));
    expect(await AttemptInFlight.countDocuments({ webhookId: held.id })).toBe(1);

    worker = await spawnWorker(config);
    const results = await Promise.all(
      [first, ...later].map((res) => h.temporal.workflow.getHandle(res.body.data.workflow_id).result()),
    );
    expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
    // At least once: an attempt the dead worker finished but could not report is made again, with
    // the same webhook-id, so the receiver can drop the repeat.
    const ids = (p: string) =>
      new Set(receiver.requests.filter((r) => r.path === p).map((r) => r.headers['webhook-id']));
    expect(ids('/other').size).toBe(3);
    expect(ids('/held').size).toBe(3);
    const heldRequests = receiver.requests.filter((r) => r.path === '/held');
    expect(heldRequests.filter((r) => r.body.includes(first.body.data.event_id))).toHaveLength(2);

    const firstEventId = first.body.data.event_id;
    const heldLogs = (await logsOf(held.id)).filter((l) => l.eventId === firstEventId);
    expect(heldLogs.map((l) => [l.attempt, l.outcome])).toEqual([
      [1, 'retrying'],
      [2, 'delivered'],
    ]);
    expect(heldLogs[0].error).toBe(INTERRUPTED);
    expect((await logsOf(other.id)).filter((l) => l.outcome === 'delivered').length).toBeGreaterThanOrEqual(3);
    expect(await AttemptInFlight.countDocuments()).toBe(0);
  }, 120_000); // the dead worker's workflow task times out after 30 s before another runs it
});
