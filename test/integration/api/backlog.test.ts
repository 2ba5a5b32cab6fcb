import type { AddressInfo } from 'node:net';
import { createApiKey } from '../../../src/access/keys';
import { createApp } from '../../../src/api/app';
import { RETRY_AFTER_SECONDS } from '../../../src/api/errors';
import { watchBacklog } from '../../../src/events/backlog';
import { EventLag } from '../../../src/events/lag';
import { createLogger } from '../../../src/logger';
import { requestsRefused } from '../../../src/metrics/registry';
import { freshEvent, until } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness } from '../../support/harness';
import { startHarnessBehindStoreProxy } from '../../support/proxy';

test('when more events wait for a worker than MAX_EVENT_BACKLOG, then new ones are answered 503 with Retry-After', async () => {
  // No worker runs: every accepted event waits on the task queue.
  const config = testConfig({ MAX_EVENT_BACKLOG: '3' });
  const h: Harness = await startHarness(config);
  const backlog = watchBacklog(h.temporal, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE);
  const app = createApp({ temporal: h.temporal, config, logger: createLogger('api', 'error'), backlog });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const owner = await createApiKey({ org: 'acme', role: 'owner' });
    for (let i = 0; i < 5; i++) {
      expect((await call(api, 'POST', '/v3/events', { key: owner.key, body: freshEvent() })).status).toBe(202);
    }
    await until(async () => backlog.current() > 3, 15_000, 'the backlog reading');
    const refused = await call(api, 'POST', '/v3/events', { key: owner.key, body: freshEvent() });
    expect(refused.status).toBe(503);
    // Jittered around the advice, which starts at RETRY_AFTER_SECONDS (src/api/retryAdvice.ts).
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(Math.round(RETRY_AFTER_SECONDS / 2));
    expect(retryAfter).toBeLessThanOrEqual(Math.round(RETRY_AFTER_SECONDS * 1.5));
    expect(refused.body.meta.error_message).toMatch(/5 events behind/);
    // Reads are not refused.
    expect((await call(api, 'GET', '/v3/extensions/event-webhooks', { key: owner.key })).status).toBe(200);
  } finally {
    backlog.stop();
    server.close();
    await h.close();
  }
});

test("when the worker sharing the API's process starts on accepted events later than MAX_EVENT_LAG_MS, and would start on a new one later than that too, then new events are answered 503 with Retry-After until it would not", async () => {
  // Well above how late a loaded test machine starts on events, well below how late these start.
  const config = testConfig({ MAX_EVENT_LAG_MS: '2000' });
  const eventLag = new EventLag();
  const h: Harness = await startHarness(config, { eventLag });
  try {
    const owner = await createApiKey({ org: 'acme', role: 'owner' });
    const post = () => call(h.api, 'POST', '/v3/events', { key: owner.key, body: freshEvent() });
    const postMany = async (n: number) => {
      for (let i = 0; i < n; i += 20) {
        const statuses = await Promise.all(
          Array.from({ length: Math.min(20, n - i) }, async () => (await post()).status),
        );
        expect(statuses.filter((s) => s !== 202)).toEqual([]);
      }
    };
    const lagRefusals = async () =>
      (await requestsRefused.get()).values.find((v) => v.labels.route === 'events' && v.labels.reason === 'lag')
        ?.value ?? 0;

    // A few events wait with no worker; it starts on them late, but clears them at once, so an
    // event accepted now would not wait: it is let in although the lag reading is past the limit.
    await postMany(5);
    await new Promise((r) => setTimeout(r, 3500));
    let worker = await startWorker(config, { eventLag });
    try {
      await until(
        async () => eventLag.current() > 2000 && eventLag.expectedWaitMs() === 0,
        20_000,
        'the late starts, all done',
      );
      expect((await post()).status).toBe(202);
    } finally {
      await worker.stop();
    }
    expect(await lagRefusals()).toBe(0);

    // Many wait: while the worker is late and would be late on a new one too, events are refused.
    await until(async () => eventLag.current() === 0, 5000, 'the lag reading to go stale');
    await postMany(200);
    await new Promise((r) => setTimeout(r, 3500));
    // Two workflow-task slots: it clears them over seconds, however idle the machine.
    worker = await startWorker(config, { eventLag, slots: { maxConcurrentWorkflowTaskExecutions: 2 } });
    try {
      const refused = await until(
        async () => {
          const res = await post();
          return res.status === 503 && res;
        },
        20_000,
        'a refusal',
      );
      // Jittered around the advice, which starts at RETRY_AFTER_SECONDS (src/api/retryAdvice.ts).
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(Math.round(RETRY_AFTER_SECONDS / 2));
      expect(retryAfter).toBeLessThanOrEqual(Math.round(RETRY_AFTER_SECONDS * 1.5));
      expect(refused.body.meta.error_message).toMatch(/deliveries start \d+ ms after acceptance/);
      expect(await lagRefusals()).toBeGreaterThanOrEqual(1);
      // Reads are not refused.
      expect((await call(h.api, 'GET', '/v3/extensions/event-webhooks', { key: owner.key })).status).toBe(200);
      // Caught up: accepted again.
      await until(async () => (await post()).status === 202, 20_000, 'events accepted again');
    } finally {
      await worker.stop();
    }
  } finally {
    await h.close();
  }
});

/** Ten runs taking their first step 1 s after acceptance (starts are counted over 2 s). */
function startingLate(eventLag: EventLag): void {
  for (let i = 0; i < 10; i++) eventLag.record(Date.now() - 1000);
}

test('while the worker is later than MAX_REPOST_LAG_MS but not MAX_EVENT_LAG_MS, new events come slower than runs start, and producers hold more than 2 s of starts, new events are let in and reposts of events refused before are not, until the lag reading is gone', async () => {
  const config = testConfig({ MAX_EVENT_LAG_MS: '2000', MAX_REPOST_LAG_MS: '500' });
  const eventLag = new EventLag();
  const h: Harness = await startHarness(config, { eventLag });
  try {
    const owner = await createApiKey({ org: 'acme', role: 'owner' });
    const post = (body: unknown) => call(h.api, 'POST', '/v3/events', { key: owner.key, body });
    const refusals = async (reason: string) =>
      (await requestsRefused.get()).values.find((v) => v.labels.route === 'events' && v.labels.reason === reason)
        ?.value ?? 0;
    const stale = () => until(async () => eventLag.current() === 0, 5000, 'the lag reading to go stale');
    // No worker runs: these wait, so an event accepted now would wait too (expectedWaitMs).
    for (let i = 0; i < 100; i++) eventLag.accepting(`waiting-${i}`);
    const [lagBefore, repostBefore] = [await refusals('lag'), await refusals('repost')];

    // Past both bounds: new events are refused, and remembered: producers hold 40, more than the
    // 2 s of starts reposts are held back for (at most 31 starts in 2 s below).
    eventLag.record(Date.now() - 3000);
    const refused = Array.from({ length: 40 }, () => freshEvent());
    const statuses = await Promise.all(refused.map(async (e) => (await post(e)).status));
    expect(statuses.filter((s) => s !== 503)).toEqual([]);
    expect(await refusals('lag')).toBe(lagBefore + 40);
    const [first, second] = refused;

    // Between the bounds, new events come slower than runs start (counted over 2 s; a lower lag
    // reading replaces one once it is stale).
    await new Promise((r) => setTimeout(r, 2100));
    startingLate(eventLag);
    expect((await post(freshEvent())).status).toBe(202);
    startingLate(eventLag);
    const repost = await post(first);
    expect(repost.status).toBe(503);
    expect(Number(repost.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(repost.body.meta.error_message).toMatch(/new events go first/);
    expect(await refusals('repost')).toBe(repostBefore + 1);

    // The worker stalls while reposts are held back: no run starts for 2 s, then one 3 s late. A new
    // event is refused for lag, told the usual wait (not the storm's), and not remembered, so its
    // repost goes first while the others wait.
    await new Promise((r) => setTimeout(r, 2100));
    eventLag.record(Date.now() - 3000);
    const unlucky = freshEvent();
    const stalled = await post(unlucky);
    expect(stalled.status).toBe(503);
    expect(stalled.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    expect(stalled.body.meta.error_message).not.toMatch(/new events go first/);
    expect(await refusals('lag')).toBe(lagBefore + 41);
    await stale();
    startingLate(eventLag);
    expect((await post(unlucky)).status).toBe(202);
    expect((await post(second)).body.meta.error_message).toMatch(/new events go first/);

    // No longer late: a repost is let in.
    await stale();
    expect((await post(refused[2])).status).toBe(202);
  } finally {
    await h.close();
  }
});

test('when event posts are answered 503 at the deadline (the store frozen), then their reposts are known as reposts: held back while the worker is later than MAX_REPOST_LAG_MS and new events are let in', async () => {
  const config = testConfig({ REQUEST_DEADLINE_MS: '1500', MAX_EVENT_LAG_MS: '2000', MAX_REPOST_LAG_MS: '500' });
  const eventLag = new EventLag();
  const { h, proxy } = await startHarnessBehindStoreProxy(config, { eventLag });
  try {
    const owner = await createApiKey({ org: 'acme', role: 'owner' });
    const post = (body: unknown) => call(h.api, 'POST', '/v3/events', { key: owner.key, body });
    // Its key not read yet: the posts below wait for it on the store (in the route, after admission).
    proxy.freeze();
    const answeredAtDeadline = Array.from({ length: 25 }, () => freshEvent());
    const answers = await Promise.all(answeredAtDeadline.map(post));
    expect(answers.map((a) => a.status)).toEqual(answeredAtDeadline.map(() => 503));
    expect(answers[0].body.meta.error_message).toMatch(/no answer within/);
    proxy.thaw();

    // Between the bounds, as in the test before: waiting runs, ten starts 1 s late, and the 25 posts
    // above out of the 2 s over which new events are counted.
    for (let i = 0; i < 100; i++) eventLag.accepting(`waiting-${i}`);
    await new Promise((r) => setTimeout(r, 2100));
    startingLate(eventLag);
    expect((await post(freshEvent())).status).toBe(202);
    startingLate(eventLag);
    const repost = await post(answeredAtDeadline[0]);
    expect(repost.status).toBe(503);
    expect(repost.body.meta.error_message).toMatch(/new events go first/);
  } finally {
    proxy.thaw();
    await h.close();
    proxy.cut(); // its listening socket would keep the test process alive
  }
});
