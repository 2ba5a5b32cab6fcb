/**
 * Squadcast's TypeScript SDK against this API: every webhooks route, with the requests the SDK
 * sends and the response checks it makes. The shapes are written here by hand from Squadcast's
 * published OpenAPI as generated into the SDK (github.com/solarwinds/squadcast-sdk-typescript,
 * squadcastv1/src/models: V3ExtensionsWebhooksWebhook, …WebhookResponse, …WebhookListItem,
 * …GetAllWebhooksResponse, V3IncidentsIncidentActionsWebhookActionResponse, and the status codes
 * of squadcastv1/src/funcs). Like the SDK's schemas they accept extra fields and refuse missing ones.
 */
import { z } from 'zod';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { deliverEvent, freshEvent } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

const BASE = '/v3/extensions/event-webhooks';

const trigger = z.object({ event_class: z.string(), event_type: z.string() });
const url = z.object({ url: z.string().optional(), method: z.string().optional() });
const filter = z.object({
  op: z.string(),
  conditions: z.array(z.object({ op: z.string().optional(), lhs: z.string().optional(), rhs: z.string().optional() })),
});

/** V3ExtensionsWebhooksWebhookResponse: what get, create and update answer in `data`. */
const webhookResponse = z.object({
  name: z.string(),
  description: z.string().optional(),
  triggers: z.array(trigger),
  urls: z.array(url),
  header: z.object({}).nullable(),
  filters: filter.nullable().optional(),
  max_retry: z.number().int().optional(),
  teams: z.array(z.string()).nullable().optional(),
  is_all_teams_configured: z.boolean().optional(),
  custom_payload_template_slug: z.string().optional(),
  language: z.string().optional(),
  mail_ids: z.array(z.string()).nullable().optional(),
  trigger_type: z.string(),
  custom_payload: z.string().optional(),
  payload_type: z.string().optional(),
  id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  organization_id: z.string().optional(),
  author_id: z.string(),
  slug: z.string(),
  version: z.string().optional(),
});

/** V3ExtensionsWebhooksGetAllWebhooksResponse. */
const listResponse = z.object({
  data: z.object({
    result: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        description: z.string(),
        trigger_type: z.string(),
        payload_type: z.string(),
        custom_payload_template_name: z.string(),
      }),
    ),
    meta: z.object({ total_count: z.number().int() }),
  }),
});

/** V3IncidentsIncidentActionsWebhookActionResponse: the manual fire's `data`. */
const fireResponse = z.object({
  id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  version: z.string(),
  organization_id: z.string(),
  author_id: z.string(),
  name: z.string(),
  slug: z.string(),
  description: z.string(),
  triggers: z.array(z.string()),
  urls: z.array(url),
  teams: z.array(z.string()),
  is_all_teams_configured: z.boolean(),
  custom_payload_template_slug: z.string(),
  header: z.object({ 'Content-Type': z.string() }),
  filters: z.any().optional(),
  trigger_type: z.string(),
  language: z.string(),
  max_retry: z.number().int(),
  mail_ids: z.array(z.string()),
  payload_type: z.string(),
  custom_payload: z.string(),
});

/** The SDK's expectations of one answer: the status it matches, and the body schema for it. */
function expectShape(res: { status: number; body: unknown }, status: number, schema?: z.ZodType) {
  expect({ status: res.status, body: res.status === status ? 'ok' : res.body }).toEqual({ status, body: 'ok' });
  if (!schema) return;
  const parsed = schema.safeParse(res.body);
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
}

describe('Squadcast SDK request and response shapes', () => {
  const config = testConfig({ SMTP_URL: '' });
  let h: Harness;
  let worker: RunningWorker;
  let owner: CreatedKey;
  let user: CreatedKey;

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    owner = await createApiKey({ org: 'acme', role: 'owner' });
    user = await createApiKey({ org: 'acme', role: 'user', teams: ['sre'] });
  });
  afterAll(async () => {
    await worker?.stop();
    await h?.close();
  });

  // What extensionsWebhooksCreate sends: camelCase fields remapped to Squadcast's names; `header`
  // passes through an empty object schema, so it is always `{}`; nullable fields may be null.
  const sdkCreateBody = {
    name: 'From the SDK',
    description: 'made by squadcast-sdk-typescript',
    triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
    urls: [{ url: 'https://hooks.example.com/sdk', method: 'POST' }],
    header: {},
    filters: { op: 'and', conditions: [{ op: 'is', lhs: 'priority', rhs: 'P1' }] },
    max_retry: 2,
    teams: null,
    is_all_teams_configured: false,
    custom_payload_template_slug: 'slack',
    language: 'jsonnet',
    mail_ids: null,
    trigger_type: 'automatic',
    custom_payload: '',
    payload_type: 'custom',
  };

  test('when the SDK creates, lists, reads, updates and deletes a webhook, then every answer has the status and shape it checks', async () => {
    const created = await call(h.api, 'POST', BASE, { key: owner.key, body: sdkCreateBody });
    expectShape(created, 201, z.object({ data: webhookResponse }));
    const id = created.body.data.id;

    const list = await call(h.api, 'GET', `${BASE}?offset=0&page-limit=10`, { key: owner.key });
    expectShape(list, 200, listResponse);
    const item = list.body.data.result.find((w: { id: string }) => w.id === id);
    expect(item).toMatchObject({ payload_type: 'custom', custom_payload_template_name: 'Slack message' });

    // A plain user's list (the manual webhooks they may fire) satisfies the same schema.
    expectShape(await call(h.api, 'GET', BASE, { key: user.key }), 200, listResponse);

    expectShape(
      await call(h.api, 'GET', `${BASE}/${id}`, { key: owner.key }),
      200,
      z.object({ data: webhookResponse }),
    );

    // extensionsWebhooksUpdate sends the same body shape with PUT.
    const updated = await call(h.api, 'PUT', `${BASE}/${id}`, {
      key: owner.key,
      body: {
        ...sdkCreateBody,
        name: 'Renamed by the SDK',
        payload_type: 'standard',
        custom_payload_template_slug: '',
      },
    });
    expectShape(updated, 200, z.object({ data: webhookResponse }));
    const relisted = await call(h.api, 'GET', BASE, { key: owner.key });
    expect(relisted.body.data.result.find((w: { id: string }) => w.id === id)).toMatchObject({
      payload_type: 'standard',
      custom_payload_template_name: '',
    });

    // webhooksDelete expects 204 and reads the body as bytes.
    const deleted = await call(h.api, 'DELETE', `${BASE}/${id}`, { key: owner.key });
    expectShape(deleted, 204);
  });

  test('when the SDK fires a manual webhook (no body, no content type), then the answer is 200 with the webhook in Squadcast’s shape, for owners and plain users', async () => {
    const manual = await call(h.api, 'POST', BASE, {
      key: owner.key,
      body: {
        ...sdkCreateBody,
        name: 'Manual from the SDK',
        trigger_type: 'manual',
        triggers: [],
        filters: null,
        is_all_teams_configured: true,
        payload_type: 'standard',
        custom_payload_template_slug: '',
        urls: [{ url: 'http://127.0.0.1:9/never', method: 'POST' }],
      },
    });
    expectShape(manual, 201, z.object({ data: webhookResponse }));
    const event = freshEvent();
    expect((await deliverEvent(h.api, owner.key, h.temporal, event)).res.status).toBe(202);
    const path = `/v3/incidents/${String(event.data.resource_data.id)}/actions/webhook/${manual.body.data.id}`;

    for (const key of [owner.key, user.key]) {
      const res = await fetch(h.api + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
      });
      const fired = { status: res.status, body: await res.json() };
      expectShape(fired, 200, z.object({ data: fireResponse }));
      expect(res.headers.get('hookrelay-workflow-id')).toEqual(expect.any(String));
    }
  });
});
