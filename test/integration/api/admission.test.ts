import { WorkflowNotFoundError } from '@temporalio/client';
import { createApiKey } from '../../../src/access/keys';
import { RETRY_AFTER_SECONDS } from '../../../src/api/errors';
import { eventWorkflowId } from '../../../src/shared/workflowIds';
import { freshEvent } from '../../support/deliveries';
import { call, startHarness, testConfig, type Harness } from '../../support/harness';
import { startHarnessBehindStoreProxy } from '../../support/proxy';

describe('admission control and deadlines', () => {
  // Keys read from the store each time: requests wait while their key is read. Keys cached (the
  // default): requests pass auth at once and wait on the store further on, in the route.
  test.each([
    ['while their key is read', '0'],
    ['past a cached key, in the route', '60000'],
  ])(
    'when the store freezes, then requests are answered 503 with Retry-After by the deadline, /healthz keeps answering, all recovers on thaw, and the requests answered 503 (held %s) do nothing afterwards',
    async (_held, authCacheTtlMs) => {
      const direct = testConfig({ REQUEST_DEADLINE_MS: '1500', AUTH_CACHE_TTL_MS: authCacheTtlMs });
      const { h, proxy } = await startHarnessBehindStoreProxy(direct);
      try {
        const owner = await createApiKey({ org: 'acme', role: 'owner' });
        const list = () => call(h.api, 'GET', '/v3/extensions/event-webhooks', { key: owner.key });
        expect((await list()).status).toBe(200);
        proxy.freeze();
        const started = Date.now();
        const event = freshEvent();
        const webhook = {
          name: 'created-during-freeze',
          trigger_type: 'automatic',
          triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
          urls: [{ url: 'https://hooks.example.com/in' }],
        };
        const answers = await Promise.all([
          list(),
          call(h.api, 'POST', '/v3/events', { key: owner.key, body: event }),
          call(h.api, 'POST', '/v3/extensions/event-webhooks', { key: owner.key, body: webhook }),
        ]);
        const took = Date.now() - started;
        for (const res of answers) {
          expect(res.status).toBe(503);
          expect(res.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
        }
        expect(took).toBeGreaterThanOrEqual(1400);
        expect(took).toBeLessThan(4000);
        expect((await call(h.api, 'GET', '/healthz')).status).toBe(200);
        proxy.thaw();
        // The requests that waited on the store finish behind the scenes; their late answers are dropped.
        expect((await list()).status).toBe(200);
        // ... and the requests answered 503 do nothing once their key is read: the post starts no
        // workflow (its producer posts again, and a thaw sets off no start for every post held back).
        await new Promise((r) => setTimeout(r, 2000));
        const run = h.temporal.workflow.getHandle(eventWorkflowId(owner.organizationId, event.event.id));
        await expect(run.describe()).rejects.toThrow(WorkflowNotFoundError);
        // Nor is the webhook whose create was answered 503 made: the client's retry would make a second.
        expect(JSON.stringify((await list()).body)).not.toContain(webhook.name);
      } finally {
        proxy.thaw();
        await h.close();
        proxy.cut(); // its listening socket would keep the test process alive
      }
    },
  );

  test('when more requests arrive than the bound allows, then the excess is answered 503 at once and the rest normally', async () => {
    const h: Harness = await startHarness(testConfig({ MAX_REQUESTS_IN_FLIGHT: '2' }));
    try {
      const owner = await createApiKey({ org: 'acme', role: 'owner' });
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => call(h.api, 'GET', '/v3/extensions/event-webhooks', { key: owner.key })),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      const busy = answers.filter((a) => a.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      expect(busy[0].headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
      expect(busy[0].body.meta.error_message).toMatch(/at capacity/);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      // Event posts have their own bound: reads at capacity do not refuse them.
      expect((await call(h.api, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
