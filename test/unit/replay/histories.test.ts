/**
 * Replays every recorded history (test/fixtures/histories, written by `npm run record-histories`
 * from real runs) against the current workflow code. A change that would break runs in flight
 * (a reordered, added or removed command without patched()) fails here with the SDK's
 * nondeterminism error naming the history.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../../../src/worker/bundle';

const dir = path.resolve(__dirname, '../../fixtures/histories');
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
/** A recorded run: its workflow id (child ids derive from it) and its history in Temporal's JSON form. */
const load = (f: string): { workflowId: string; history: { events: any[] } } =>
  JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));

describe('recorded workflow histories', () => {
  beforeAll(() => {
    // webpack's build report and replay chatter are INFO; failures come back as results.
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  });

  test('the fixtures cover every workflow type and the delivery branches', () => {
    const activities = new Set<string>();
    const types = new Set<string>();
    for (const f of files) {
      const { events } = load(f).history;
      for (const e of events) {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (name) activities.add(name);
        const type = e.workflowExecutionStartedEventAttributes?.workflowType?.name;
        if (type) types.add(type);
      }
    }
    // Every workflow the worker registers has at least one recorded run (a new one needs a scenario
    // in scripts/record-histories.ts).
    const index = fs.readFileSync(path.resolve(__dirname, '../../../src/workflows/index.ts'), 'utf8');
    const registered = [...index.matchAll(/export \{ ([\w, ]+) \}/g)].flatMap((m) => m[1].split(', ')).sort();
    expect(registered.length).toBeGreaterThanOrEqual(3);
    expect([...types].sort()).toEqual(expect.arrayContaining(registered));
    expect([...activities]).toEqual(
      expect.arrayContaining(['deliverAttempt', 'handleDeliveryFailure', 'renderCustomPayload']),
    );
  });

  test('every history replays on the current workflow code, bundled as the worker runs it', async () => {
    const histories = files.map(load);
    const fileOf = new Map(histories.map((h, i) => [h.workflowId, files[i]]));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      // The worker's own bundle: its interceptors, and its modules shared by every run in the sandbox.
      { workflowBundle: { code: await bundleWorkflows() } },
      histories,
    )) {
      replayed++;
      if (result.error) failures.push(`${fileOf.get(result.workflowId)}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  }, 180_000);
});
