import { Webhook as StandardWebhook } from 'standardwebhooks';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { urlTargetOf } from '../../../src/delivery/target';
import { toV1Payload } from '../../../src/payloads/v1';
import { sampleEvent } from '../../../src/payloads/samples';
import { SA_EVENT_TYPE, SA_ORGANIZATION } from '../../../src/shared/searchAttributes';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent, logsOf, newSecret, until } from '../../support/deliveries';
import { startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

describe('eventDeliveryWorkflow: what each webhook receives', () => {
  const config = testConfig();
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver();
    owner = await createApiKey({ org: 'acme', role: 'owner' });
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  const received = (path: string, eventId?: string) =>
    receiver.requests.filter((r) => r.path === path && (!eventId || r.body.includes(eventId)));

  test('when a v2 webhook matches, then every URL gets the envelope as received, with its method, headers and a valid signature', async () => {
    const wh = await createWebhook(owner.organizationId, {
      urls: [
        { url: `${receiver.url}/v2-a`, method: 'POST' },
        { url: `${receiver.url}/v2-b`, method: 'PUT' },
      ],
      headers: [{ name: 'X-Token', value: 's3cret-value' }],
    });
    const event = freshEvent('incident.triggered');
    const { result, res } = await deliverEvent(h.api, owner.key, h.temporal, event);
    expect(result.status).toBe('delivered');

    const expected = structuredClone(event);
    expected.data.organization = { id: owner.organizationId, name: 'acme' };
    const [a] = received('/v2-a', event.event.id);
    const [b] = received('/v2-b', event.event.id);
    expect(a.body).toBe(JSON.stringify(expected));
    expect(b.body).toBe(a.body);
    expect([a.method, b.method]).toEqual(['POST', 'PUT']);
    for (const r of [a, b]) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-token']).toBe('s3cret-value');
      expect(r.headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      expect(() => new StandardWebhook(wh.secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    }
    expect(a.headers['webhook-id']).toBe(b.headers['webhook-id']);

    // The Temporal UI names each delivery attempt after its webhook and the URL's origin (not its
    // path, which may be a credential): first attempts are local activities, recorded as markers.
    const history = await h.temporal.workflow.getHandle(res.body.data.workflow_id).fetchHistory();
    const summaries = (history.events ?? [])
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity' && e.userMetadata?.summary)
      .map((e) => JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString()));
    expect(summaries.sort()).toEqual([
      `${wh.doc.name}: POST ${receiver.url}/…`,
      `${wh.doc.name}: PUT ${receiver.url}/…`,
    ]);

    const logs = await logsOf(wh.id);
    expect(logs).toHaveLength(2);
    for (const log of logs) {
      expect(log).toMatchObject({ outcome: 'delivered', status: 200, attempt: 1, maxAttempts: 4, test: false });
      expect(log.requestBody).toBe(a.body);
      const headers = Object.fromEntries(log.requestHeaders.map((x) => [x.name, x.value]));
      expect(headers['X-Token']).toBe('********');
      expect(headers['webhook-signature']).toBe('v1,********');
      expect(headers['webhook-id']).toBe(a.headers['webhook-id']);
      expect(JSON.stringify(log)).not.toContain('s3cret-value');
    }
  });

  test('when a v1 webhook matches an incident event, then it gets the v1 payload with the fixture key order', async () => {
    const wh = await createWebhook(owner.organizationId, {
      version: 'v1',
      triggers: [{ event_class: 'incident', event_type: 'incident_acknowledged' }],
      urls: [{ url: `${receiver.url}/v1`, method: 'POST' }],
    });
    const event = freshEvent('incident.acknowledged');
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, event);
    expect(result.deliveries).toEqual([
      { webhookId: wh.id, target: urlTargetOf(`${receiver.url}/v1`, 'POST'), outcome: 'delivered' },
    ]);
    const withOrg = structuredClone(event);
    withOrg.data.organization = { id: owner.organizationId, name: 'acme' };
    const [r] = received('/v1');
    expect(r.body).toBe(JSON.stringify(toV1Payload(withOrg, 'incident_acknowledged')));
    expect(Object.keys(JSON.parse(r.body))[1]).toBe('event_type');
    expect(JSON.parse(r.body).analytics).toEqual({
      tta: { time: 627_083, user_id: '61963608090a650008fff152', escalation_policy_id: '629e23f5eb4041a20a43b11c' },
    });
    expect(() => new StandardWebhook(wh.secret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
  });

  test('when the event is not one of the four incident events, then v1 webhooks are not called and v2 subscribers are', async () => {
    const v1 = await createWebhook(owner.organizationId, {
      version: 'v1',
      triggers: [{ event_class: 'incident', event_type: 'incident_triggered' }],
      urls: [{ url: `${receiver.url}/v1-notes`, method: 'POST' }],
    });
    const v2 = await createWebhook(owner.organizationId, {
      triggers: [{ event_class: 'incident_notes', event_type: 'incident.incident_notes_created' }],
      urls: [{ url: `${receiver.url}/v2-notes`, method: 'POST' }],
    });
    const event = freshEvent('incident.incident_notes_created');
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, event);
    expect(result.deliveries.map((d: any) => d.webhookId)).toEqual([v2.id]);
    expect(received('/v1-notes')).toHaveLength(0);
    expect(received('/v2-notes', event.event.id)).toHaveLength(1);
    expect(await logsOf(v1.id)).toHaveLength(0);
  });

  test('when a filter matches, then the webhook is called; when it does not, then it is not', async () => {
    const service = (sampleEvent('incident.resolved').data.resource_data as any).service.name;
    const filterLogic = JSON.stringify({ '==': [{ var: 'service.name' }, service] });
    const wh = await createWebhook(owner.organizationId, {
      triggers: [{ event_class: 'incident', event_type: 'incident.resolved' }],
      filterLogic,
      urls: [{ url: `${receiver.url}/filtered`, method: 'POST' }],
    });
    const hit = freshEvent('incident.resolved');
    expect((await deliverEvent(h.api, owner.key, h.temporal, hit)).result.status).toBe('delivered');
    const miss = freshEvent('incident.resolved');
    (miss.data.resource_data as any).service.name = 'another service';
    const { result, res } = await deliverEvent(h.api, owner.key, h.temporal, miss);
    expect(result).toEqual({ status: 'no_match', deliveries: [] });
    expect(received('/filtered').map((r) => JSON.parse(r.body).event.id)).toEqual([hit.event.id]);
    expect(await logsOf(wh.id)).toHaveLength(1);
    const described = await h.temporal.workflow.getHandle(res.body.data.workflow_id).describe();
    expect(described.searchAttributes.WebhookDeliveryStatus).toEqual(['no_match']);
  });

  test('when a stored filter fails its checks or does not parse, then that webhook is skipped and the others are called', async () => {
    // The worker-crashing rule, as if stored before the save-time cost checks existed.
    const doubling = {
      reduce: [[...Array(26).keys()], { cat: [{ var: 'accumulator' }, { var: 'accumulator' }] }, 'xy'],
    };
    const exploit = { '>': [{ map: [[...Array(64).keys()], { substr: [doubling, 1] }] }, 0] };
    const triggers = [{ event_class: 'incident_task', event_type: 'incident.incident_task_completed' }];
    const blownUp = await createWebhook(owner.organizationId, {
      triggers,
      filterLogic: JSON.stringify(exploit),
      urls: [{ url: `${receiver.url}/exploit`, method: 'POST' }],
    });
    const garbled = await createWebhook(owner.organizationId, {
      triggers,
      filterLogic: '{"==": [',
      urls: [{ url: `${receiver.url}/garbled`, method: 'POST' }],
    });
    const fine = await createWebhook(owner.organizationId, {
      triggers,
      urls: [{ url: `${receiver.url}/fine`, method: 'POST' }],
    });
    const event = freshEvent('incident.incident_task_completed');
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, event);
    expect(result.status).toBe('delivered');
    expect(result.deliveries.map((d: any) => d.webhookId)).toEqual([fine.id]);
    expect(received('/exploit')).toHaveLength(0);
    expect(received('/garbled')).toHaveLength(0);
    expect(await logsOf(blownUp.id)).toHaveLength(0);
    expect(await logsOf(garbled.id)).toHaveLength(0);
  });

  test('when webhooks are disabled, manual, or in another organization, then they are not called', async () => {
    const other = await createApiKey({ org: 'globex', role: 'owner' });
    const paths = ['/disabled', '/manual', '/other-org'];
    await createWebhook(owner.organizationId, {
      enabled: false,
      triggers: [{ event_class: 'incident', event_type: 'incident.reassigned' }],
      urls: [{ url: `${receiver.url}${paths[0]}`, method: 'POST' }],
    });
    await createWebhook(owner.organizationId, {
      trigger_type: 'manual',
      triggers: [{ event_class: 'incident', event_type: 'incident.reassigned' }],
      urls: [{ url: `${receiver.url}${paths[1]}`, method: 'POST' }],
    });
    await createWebhook(other.organizationId, {
      triggers: [{ event_class: 'incident', event_type: 'incident.reassigned' }],
      urls: [{ url: `${receiver.url}${paths[2]}`, method: 'POST' }],
    });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent('incident.reassigned'));
    expect(result.status).toBe('no_match');
    for (const p of paths) expect(received(p)).toHaveLength(0);
  });

  test('when a secret is rotating, then both valid secrets sign and an expired one does not', async () => {
    const [current, previous, expired] = [newSecret(), newSecret(), newSecret()];
    const now = Date.now();
    await createWebhook(owner.organizationId, {
      triggers: [{ event_class: 'incident_tags', event_type: 'incident.tags_updated' }],
      urls: [{ url: `${receiver.url}/rotating`, method: 'POST' }],
      secrets: [
        { value: current, createdAt: new Date(now), expiresAt: null },
        { value: previous, createdAt: new Date(now - 1000), expiresAt: new Date(now + 3_600_000) },
        { value: expired, createdAt: new Date(now - 2000), expiresAt: new Date(now - 1000) },
      ],
    });
    await deliverEvent(h.api, owner.key, h.temporal, freshEvent('incident.tags_updated'));
    const [r] = received('/rotating');
    const headers = r.headers as Record<string, string>;
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new StandardWebhook(current).verify(r.body, headers)).not.toThrow();
    expect(() => new StandardWebhook(previous).verify(r.body, headers)).not.toThrow();
    expect(() => new StandardWebhook(expired).verify(r.body, headers)).toThrow();
  });

  test('when more than 10 deliveries fan out, then one child workflow per webhook delivers them all', async () => {
    const hooks = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        createWebhook(owner.organizationId, {
          triggers: [{ event_class: 'incident_task', event_type: 'incident.incident_task_created' }],
          urls: [0, 1, 2].map((j) => ({ url: `${receiver.url}/fan/${i}/${j}`, method: 'POST' })),
        }),
      ),
    );
    const event = freshEvent('incident.incident_task_created');
    const { result, res } = await deliverEvent(h.api, owner.key, h.temporal, event);
    expect(result.status).toBe('delivered');
    expect(result.deliveries).toHaveLength(12);
    expect(receiver.requests.filter((r) => r.path.startsWith('/fan/'))).toHaveLength(12);
    for (const wh of hooks) {
      const child = await h.temporal.workflow.getHandle(`${res.body.data.workflow_id}-webhook-${wh.id}`).describe();
      expect(child.status.name).toBe('COMPLETED');
      expect(child.typedSearchAttributes.get(SA_ORGANIZATION)).toBe(owner.organizationId);
    }
  });

  test('when searching Temporal for WebhookEventType, then the event runs are found', async () => {
    const wh = await createWebhook(owner.organizationId, {
      triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
      urls: [{ url: `${receiver.url}/search`, method: 'POST' }],
    });
    const { res } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent('incident.triggered'));
    const query = `WebhookEventType = "incident.triggered" AND WebhookOrganization = "${owner.organizationId}" AND WebhookDeliveryStatus = "delivered" AND WebhookIds = "${wh.id}"`;
    const found = await until(async () => {
      const ids: string[] = [];
      for await (const wf of h.temporal.workflow.list({ query })) ids.push(wf.workflowId);
      return ids.includes(res.body.data.workflow_id) ? ids : undefined;
    });
    expect(found).toContain(res.body.data.workflow_id);
    const described = await h.temporal.workflow.getHandle(res.body.data.workflow_id).describe();
    expect(described.typedSearchAttributes.get(SA_EVENT_TYPE)).toBe('incident.triggered');
  });
});
