import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { StoredEvent, eventKey } from '../../../src/db/event';
import { latestIncident } from '../../../src/events/incident';
import { urlTargetOf } from '../../../src/delivery/target';
import { eventWorkflowId } from '../../../src/shared/workflowIds';
import { SA_DELIVERY_STATUS, SA_EVENT_TYPE } from '../../../src/shared/searchAttributes';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent, postEvent } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

describe('POST /v3/events', () => {
  const config = testConfig();
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  let webhookId: string;

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver();
    owner = await createApiKey({ org: 'acme', role: 'owner' });
    webhookId = (await createWebhook(owner.organizationId, { urls: [{ url: `${receiver.url}/hook`, method: 'POST' }] }))
      .id;
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  const deliveriesOf = (eventId: string) => receiver.requests.filter((r) => JSON.parse(r.body).event.id === eventId);

  test('when a valid event is posted, then its workflow completes in Temporal and the event is in the store', async () => {
    const event = freshEvent();
    const { res, result } = await deliverEvent(h.api, owner.key, h.temporal, event);
    expect(res.status).toBe(202);
    expect(res.body.data).toEqual({
      event_id: event.event.id,
      workflow_id: eventWorkflowId(owner.organizationId, event.event.id),
      run_id: expect.any(String),
      duplicate: false,
    });
    expect(result).toEqual({
      status: 'delivered',
      deliveries: [{ webhookId, target: urlTargetOf(`${receiver.url}/hook`, 'POST'), outcome: 'delivered' }],
    });
    const description = await h.temporal.workflow.getHandle(res.body.data.workflow_id).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(SA_EVENT_TYPE)).toBe('incident.triggered');
    expect(description.typedSearchAttributes.get(SA_DELIVERY_STATUS)).toBe('delivered');
    const stored = await StoredEvent.findById(eventKey(owner.organizationId, event.event.id)).lean();
    expect(stored).toMatchObject({ eventType: 'incident.triggered', incidentId: event.data.resource_data.id });
    expect(JSON.parse(stored!.body).event).toEqual(event.event);
    expect(stored!.runId).toBe(res.body.data.run_id);
    expect(deliveriesOf(event.event.id)).toHaveLength(1);
  });

  test('when the event names another organization, then the key’s organization replaces it', async () => {
    const event = freshEvent();
    event.data.organization = { id: 'someone-else', name: 'Other' };
    await deliverEvent(h.api, owner.key, h.temporal, event);
    const [delivered] = deliveriesOf(event.event.id);
    expect(JSON.parse(delivered.body).data.organization).toEqual({ id: owner.organizationId, name: 'acme' });
  });

  test('when the shape is wrong, then the answer is 400 naming the field', async () => {
    const noId = freshEvent() as any;
    delete noId.event.id;
    let res = await postEvent(h.api, owner.key, noId);
    expect(res.status).toBe(400);
    expect(res.body.meta.errors).toContainEqual(expect.objectContaining({ field: 'event.id' }));

    const noTeam = freshEvent() as any;
    delete noTeam.data.team;
    res = await postEvent(h.api, owner.key, noTeam);
    expect(res.status).toBe(400);
    expect(res.body.meta.errors).toContainEqual(expect.objectContaining({ field: 'data.team' }));

    const noIncident = freshEvent('incident.incident_notes_created') as any;
    delete noIncident.data.incident;
    res = await postEvent(h.api, owner.key, noIncident);
    expect(res.status).toBe(400);
    expect(res.body.meta.errors).toContainEqual(expect.objectContaining({ field: 'data.incident' }));

    res = await postEvent(h.api, owner.key, [1, 2]);
    expect(res.status).toBe(400);
  });

  test('when event.type is not in the catalog, then the answer is 400 naming event.type', async () => {
    const event = freshEvent() as any;
    event.event.type = 'incident.exploded';
    const res = await postEvent(h.api, owner.key, event);
    expect(res.status).toBe(400);
    expect(res.body.meta.errors).toEqual([{ field: 'event.type', message: 'unknown event type' }]);
  });

  test('when the event nests deeper than 64 levels, then the answer is 400 naming data, and nothing is stored', async () => {
    const event = freshEvent() as any;
    event.data.resource_data.event_payload = 'DEEP';
    // Built as text: JSON.stringify itself overflows the stack on such a value.
    const raw = JSON.stringify(event).replace('"DEEP"', `${'['.repeat(20_000)}0${']'.repeat(20_000)}`);
    const res = await call(h.api, 'POST', '/v3/events', { key: owner.key, raw });
    expect(res.status).toBe(400);
    expect(res.body.meta.errors).toEqual([{ field: 'data', message: 'is nested deeper than 64 levels' }]);
    expect(await StoredEvent.countDocuments({ eventId: event.event.id })).toBe(0);
  });

  test.each(['event.x', 'extra'])(
    'when %s nests 100,000 deep, then the answer is 400 naming it, not 500, and nothing is stored',
    async (field) => {
      const event = freshEvent() as any;
      if (field === 'event.x') event.event.x = 'DEEP';
      else event.extra = 'DEEP';
      const raw = JSON.stringify(event).replace('"DEEP"', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
      const res = await call(h.api, 'POST', '/v3/events', { key: owner.key, raw });
      expect(res.status).toBe(400);
      expect(res.body.meta.errors).toEqual([{ field, message: 'is nested deeper than 64 levels' }]);
      expect(await StoredEvent.countDocuments({ eventId: event.event.id })).toBe(0);
    },
  );

  test('when the body is over 256 KB, then the answer is 413', async () => {
    const event = freshEvent() as any;
    event.data.resource_data.description = 'x'.repeat(300 * 1024);
    const res = await postEvent(h.api, owner.key, event);
    expect(res.status).toBe(413);
  });

  test('when no API key is sent, then the answer is 401', async () => {
    const res = await postEvent(h.api, '', freshEvent());
    expect(res.status).toBe(401);
  });

  test('when the same event is posted after its run completed, then it is a duplicate and nothing is delivered again', async () => {
    const event = freshEvent();
    const first = await deliverEvent(h.api, owner.key, h.temporal, event);
    const again = await postEvent(h.api, owner.key, event);
    expect(again.status).toBe(202);
    expect(again.body.data).toEqual({ ...first.res.body.data, duplicate: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(deliveriesOf(event.event.id)).toHaveLength(1);
  });

  test('when the same event is posted after a restart of the API and worker, then it is still a duplicate', async () => {
    const event = freshEvent();
    const first = await deliverEvent(h.api, owner.key, h.temporal, event);
    // Restart: a new API (app, connections) and a new worker on the same store and Temporal server.
    await worker.stop();
    await h.close();
    h = await startHarness(config);
    worker = await startWorker(config);
    const again = await postEvent(h.api, owner.key, event);
    expect(again.body.data).toEqual({ ...first.res.body.data, duplicate: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(deliveriesOf(event.event.id)).toHaveLength(1);
  });

  /** The record an earlier run left, a day ago, of an event that Temporal no longer knows. */
  const recordedLongAgo = (event: ReturnType<typeof freshEvent>) =>
    StoredEvent.create({
      _id: eventKey(owner.organizationId, event.event.id),
      organizationId: owner.organizationId,
      eventId: event.event.id,
      eventType: event.event.type,
      eventAt: new Date(event.event.timestamp),
      body: JSON.stringify(event),
      workflowId: eventWorkflowId(owner.organizationId, event.event.id),
      runId: 'a-run-temporal-forgot',
      receivedAt: new Date(Date.now() - 86_400_000),
    });

  test('when Temporal no longer knows a run (retention ended, server rebuilt), then the repeat is accepted but its run delivers nothing', async () => {
    const event = freshEvent();
    await recordedLongAgo(event);
    const again = await postEvent(h.api, owner.key, event);
    expect(again.status).toBe(202);
    const result = await h.temporal.workflow.getHandle(again.body.data.workflow_id).result();
    expect(result).toEqual({ status: 'duplicate', deliveries: [] });
    const description = await h.temporal.workflow.getHandle(again.body.data.workflow_id).describe();
    expect(description.typedSearchAttributes.get(SA_DELIVERY_STATUS)).toBe('duplicate');
    expect(deliveriesOf(event.event.id)).toHaveLength(0);
    // The record stays the first run's.
    const stored = await StoredEvent.findById(eventKey(owner.organizationId, event.event.id)).lean();
    expect(stored!.runId).toBe('a-run-temporal-forgot');
  });

  test('when reposts of an event accepted long ago race, then one run starts and it delivers nothing', async () => {
    const event = freshEvent();
    await recordedLongAgo(event);
    const answers = await Promise.all([1, 2, 3].map(() => postEvent(h.api, owner.key, event)));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.filter((a) => a.body.data.duplicate === false)).toHaveLength(1);
    const result = await h.temporal.workflow.getHandle(answers[0].body.data.workflow_id).result();
    expect(result.status).toBe('duplicate');
    await new Promise((r) => setTimeout(r, 300));
    expect(deliveriesOf(event.event.id)).toHaveLength(0);
  });

  test('when two posts of one event race, then exactly one starts it and it is delivered once', async () => {
    const event = freshEvent();
    const answers = await Promise.all([1, 2, 3].map(() => postEvent(h.api, owner.key, event)));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.filter((a) => a.body.data.duplicate === false)).toHaveLength(1);
    await h.temporal.workflow.getHandle(answers[0].body.data.workflow_id).result();
    expect(deliveriesOf(event.event.id)).toHaveLength(1);
  });

  test('when events about an incident arrive out of order, then the newest state of the incident is kept', async () => {
    const newer = freshEvent('incident.acknowledged');
    const older = freshEvent('incident.triggered');
    older.data.resource_data.id = newer.data.resource_data.id;
    older.event.timestamp = '2020-01-01T00:00:00Z';
    // Each run records its event first: waiting for the runs makes both known.
    await deliverEvent(h.api, owner.key, h.temporal, newer);
    await deliverEvent(h.api, owner.key, h.temporal, older);
    const latest = await latestIncident(owner.organizationId, String(newer.data.resource_data.id));
    expect(latest?.incident.status).toBe('acknowledged');
    expect(latest?.team).toEqual(newer.data.team);
    expect(await latestIncident(owner.organizationId, 'never-seen')).toBeNull();
  });
});
