import type { WorkflowHandle } from '@temporalio/client';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { SA_DELIVERY_STATUS, SA_WEBHOOK_IDS } from '../../../src/shared/searchAttributes';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, freshEvent, postEvent, until } from '../../support/deliveries';
import { startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The search attributes each upsert event of a history set, by name. */
const upsertedNames = (events: HistoryEvent[]) =>
  events
    .map((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields)
    .filter((fields) => !!fields)
    .map((fields) => Object.keys(fields).sort());
const markerNames = (events: HistoryEvent[]) =>
  events.map((e) => e.markerRecordedEventAttributes?.markerName).filter((name) => !!name);

describe("an event's run: its search attributes in as few upserts as its deliveries allow", () => {
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  let orgs = 0;

  beforeAll(async () => {
    // A failed first attempt waits 3 s on a timer: long enough to look at the run meanwhile.
    const config = testConfig({ RETRY_INITIAL_INTERVAL_MS: '3000' });
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver();
  });
  beforeEach(async () => {
    owner = await createApiKey({ org: `sa-${++orgs}`, role: 'owner' });
    receiver.setHandler(() => ({ status: 200, body: 'ok' }));
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  async function post() {
    const res = await postEvent(h.api, owner.key, freshEvent());
    expect(res.status).toBe(202);
    return h.temporal.workflow.getHandle(res.body.data.workflow_id);
  }

  test('when every delivery succeeds at once, then the run is an eventDeliveryWorkflowV2 with no patch marker and one upsert of the webhook ids and the status', async () => {
    const a = await createWebhook(owner.organizationId, { urls: [{ url: `${receiver.url}/a`, method: 'POST' }] });
    const b = await createWebhook(owner.organizationId, { urls: [{ url: `${receiver.url}/b`, method: 'POST' }] });
    const handle = await post();
    expect((await handle.result()).status).toBe('delivered');

    const events = (await handle.fetchHistory()).events ?? [];
    expect(markerNames(events)).not.toContain('core_patch');
    expect(upsertedNames(events)).toEqual([[SA_DELIVERY_STATUS.name, SA_WEBHOOK_IDS.name]]);
    const description = await handle.describe();
    expect(description.type).toBe('eventDeliveryWorkflowV2');
    expect(description.typedSearchAttributes.get(SA_DELIVERY_STATUS)).toBe('delivered');
    expect([...(description.typedSearchAttributes.get(SA_WEBHOOK_IDS) ?? [])].sort()).toEqual([a.id, b.id].sort());
  });

  test('when a first attempt fails and the delivery waits for its retry, then the webhook ids are shown before the wait, and the status at the end', async () => {
    receiver.setHandler((_req, index) => (index === 0 ? { status: 500, body: 'down' } : { status: 200, body: 'ok' }));
    receiver.requests.length = 0;
    const wh = await createWebhook(owner.organizationId, {
      urls: [{ url: `${receiver.url}/flaky`, method: 'POST' }],
      max_retry: 2,
    });
    const handle = await post();

    // Waiting on the retry's timer: found by its webhook id already, no status yet.
    await until(
      async () => ((await handle.fetchHistory()).events ?? []).some((e) => !!e.timerStartedEventAttributes),
      10_000,
      'the retry timer',
    );
    const waiting = await handle.describe();
    expect(waiting.status.name).toBe('RUNNING');
    expect(waiting.typedSearchAttributes.get(SA_WEBHOOK_IDS)).toEqual([wh.id]);
    expect(waiting.typedSearchAttributes.get(SA_DELIVERY_STATUS)).toBeUndefined();

    expect((await handle.result()).status).toBe('delivered');
    expect(receiver.requests).toHaveLength(2);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(upsertedNames(events)).toEqual([[SA_WEBHOOK_IDS.name], [SA_DELIVERY_STATUS.name]]);
    const done = await handle.describe();
    expect(done.typedSearchAttributes.get(SA_WEBHOOK_IDS)).toEqual([wh.id]);
    expect(done.typedSearchAttributes.get(SA_DELIVERY_STATUS)).toBe('delivered');
  });
});
