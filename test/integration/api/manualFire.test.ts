import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { SA_WEBHOOK_IDS } from '../../../src/shared/searchAttributes';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent, logsOf } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

describe('POST /v3/incidents/{incidentID}/actions/webhook/{webhookID}', () => {
  const config = testConfig({ SMTP_URL: '' });
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  let sre: CreatedKey;
  let dba: CreatedKey;
  let teamWebhook: string;
  const triggered = freshEvent('incident.triggered');
  const incidentId = String(triggered.data.resource_data.id);

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver((req) => ({ status: req.path === '/manual-down' ? 500 : 200 }));
    owner = await createApiKey({ org: 'acme', role: 'owner', teams: ['sre', 'dba'] });
    sre = await createApiKey({ org: 'acme', role: 'user', teams: ['sre'] });
    dba = await createApiKey({ org: 'acme', role: 'user', teams: ['dba'] });
    teamWebhook = (
      await createWebhook(owner.organizationId, {
        trigger_type: 'manual',
        triggers: [],
        teams: sre.teamIds,
        urls: [{ url: `${receiver.url}/manual`, method: 'POST' }],
      })
    ).id;
    // An event is known to manual fires once its run has recorded it, moments after the 202.
    expect((await deliverEvent(h.api, owner.key, h.temporal, triggered)).res.status).toBe(202);
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  const fire = (key: string, webhookId: string, incident = incidentId, body?: unknown) =>
    call(h.api, 'POST', `/v3/incidents/${incident}/actions/webhook/${webhookId}`, { key, body });

  test('when a user in one of the webhook’s teams fires it, then the incident’s current state is delivered as incident.triggered', async () => {
    // The incident moved on since it was triggered: the fire sends its latest state.
    const acked = freshEvent('incident.acknowledged');
    acked.data.resource_data.id = incidentId;
    acked.event.timestamp = new Date().toISOString();
    expect((await deliverEvent(h.api, owner.key, h.temporal, acked)).res.status).toBe(202);

    const res = await fire(sre.key, teamWebhook);
    expect(res.status).toBe(200);
    // Squadcast's answer: the webhook object (a plain user's view: no URLs), the fire's ids in headers.
    expect(res.body.data).toMatchObject({ id: teamWebhook, trigger_type: 'manual', teams: sre.teamIds });
    expect(res.body.data.urls).toEqual([]);
    expect(res.headers.get('hookrelay-fire-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('hookrelay-run-id')).toEqual(expect.any(String));
    const result = await h.temporal.workflow.getHandle(res.headers.get('hookrelay-workflow-id')!).result();
    expect(result.status).toBe('delivered');
    const described = await h.temporal.workflow.getHandle(res.headers.get('hookrelay-workflow-id')!).describe();
    expect(described.typedSearchAttributes.get(SA_WEBHOOK_IDS)).toEqual([teamWebhook]);

    const [request] = receiver.requests.filter((r) => r.path === '/manual');
    const body = JSON.parse(request.body);
    expect(body.event).toMatchObject({
      id: res.headers.get('hookrelay-event-id')!,
      type: 'incident.triggered',
      resource: 'incident',
    });
    expect(body.data.resource_type).toBe('incident');
    expect(body.data.resource_data).toEqual(acked.data.resource_data);
    expect(body.data.organization).toEqual({ id: owner.organizationId, name: 'acme' });
    expect(body.data.team).toEqual(acked.data.team);
    const logs = await logsOf(teamWebhook);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ trigger: 'manual', outcome: 'delivered', eventType: 'incident.triggered' });
  });

  test('when a user outside the webhook’s teams fires it, then the answer is 403; the owner may', async () => {
    expect((await fire(dba.key, teamWebhook)).status).toBe(403);
    const res = await fire(owner.key, teamWebhook);
    expect(res.status).toBe(200);
    await h.temporal.workflow.getHandle(res.headers.get('hookrelay-workflow-id')!).result();
  });

  test('when all teams are configured, then any user of the organization may fire it', async () => {
    const all = await createWebhook(owner.organizationId, {
      trigger_type: 'manual',
      triggers: [],
      is_all_teams_configured: true,
      urls: [{ url: `${receiver.url}/manual-all`, method: 'POST' }],
    });
    const res = await fire(dba.key, all.id);
    expect(res.status).toBe(200);
    expect((await h.temporal.workflow.getHandle(res.headers.get('hookrelay-workflow-id')!).result()).status).toBe(
      'delivered',
    );
  });

  test('when the incident is unknown, then 404; when it is given in the body, then that state is sent', async () => {
    const unknown = await fire(sre.key, teamWebhook, 'no-such-incident');
    expect(unknown.status).toBe(404);
    expect(unknown.body.meta.error_message).toBe('incident not found');

    const incident = { ...freshEvent('incident.resolved').data.resource_data, id: 'fresh-incident' };
    const res = await fire(sre.key, teamWebhook, 'fresh-incident', { incident, team: { id: 't1', name: 'Team 1' } });
    expect(res.status).toBe(200);
    await h.temporal.workflow.getHandle(res.headers.get('hookrelay-workflow-id')!).result();
    const request = receiver.requests.find((r) => r.body.includes(res.headers.get('hookrelay-event-id')!))!;
    expect(JSON.parse(request.body).data).toMatchObject({
      resource_data: incident,
      team: { id: 't1', name: 'Team 1' },
    });
  });

  test('when the webhook is automatic, unknown, another organization’s or disabled, then it is not fired', async () => {
    const automatic = await createWebhook(owner.organizationId, {
      urls: [{ url: `${receiver.url}/auto`, method: 'POST' }],
    });
    expect((await fire(owner.key, automatic.id)).status).toBe(400);
    expect((await fire(owner.key, '0123456789abcdef01234567')).status).toBe(404);
    const stranger = await createApiKey({ org: 'globex', role: 'owner' });
    expect((await fire(stranger.key, teamWebhook)).status).toBe(404);
    const disabled = await createWebhook(owner.organizationId, {
      trigger_type: 'manual',
      triggers: [],
      is_all_teams_configured: true,
      enabled: false,
      urls: [{ url: `${receiver.url}/disabled`, method: 'POST' }],
    });
    expect((await fire(owner.key, disabled.id)).status).toBe(422);
    expect(receiver.requests.filter((r) => r.path === '/auto' || r.path === '/disabled')).toHaveLength(0);
  });

  test('when the body nests deeper than the limit, then the answer is 400 naming the field, and nothing is sent', async () => {
    const before = receiver.requests.length;
    const raw = `{"incident": {"id": "${incidentId}", "deep": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const path = `/v3/incidents/${incidentId}/actions/webhook/${teamWebhook}`;
    const res = await call(h.api, 'POST', path, { key: owner.key, raw });
    expect(res.status).toBe(400);
    expect(res.body.meta.errors).toEqual([{ field: 'incident.deep', message: 'is nested deeper than 64 levels' }]);
    expect(receiver.requests.length).toBe(before);
  });

  test('when a manual delivery keeps failing, then it is retried and its failure mail is kept like an event’s', async () => {
    const down = await createWebhook(owner.organizationId, {
      trigger_type: 'manual',
      triggers: [],
      is_all_teams_configured: true,
      max_retry: 1,
      mail_ids: ['ops@acme.test'],
      urls: [{ url: `${receiver.url}/manual-down`, method: 'POST' }],
    });
    const res = await fire(sre.key, down.id);
    const result = await h.temporal.workflow.getHandle(res.headers.get('hookrelay-workflow-id')!).result();
    expect(result.status).toBe('failed');
    expect(receiver.requests.filter((r) => r.path === '/manual-down')).toHaveLength(2);
    const mails = await call(h.api, 'GET', `/v3/extensions/event-webhooks/${down.id}/mails`, { key: owner.key });
    expect(mails.body.data.result).toHaveLength(1);
  });
});
