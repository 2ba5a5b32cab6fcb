/**
 * Who may call what: every route runs with every kind of caller. A route added later is one more
 * row in `routes`; an actor is one more entry in `actors` and one more column in each row.
 */
import { createApiKey, revokeApiKey } from '../../../src/access/keys';
import { sampleEvent } from '../../../src/payloads/samples';
import { call, startHarness, type Harness } from '../../support/harness';
import { startReceiver, type Receiver } from '../../support/receiver';

type Actor = 'none' | 'revoked' | 'otherOrgOwner' | 'plainUser' | 'manager' | 'owner';

interface Fixture {
  /** A new webhook of acme (the org the callers other than otherOrgOwner belong to). */
  acmeWebhook(): Promise<{ id: string; slug: string }>;
  /** A new manual webhook of acme that every team may fire. */
  acmeManualWebhook(): Promise<{ id: string; slug: string }>;
}

interface Route {
  name: string;
  method: string;
  path(fx: Fixture): Promise<string> | string;
  body?: unknown;
  /** The status each actor gets; `none` and `revoked` are always 401. */
  expect: Record<Exclude<Actor, 'none' | 'revoked'>, number>;
}

const BASE = '/v3/extensions/event-webhooks';
const webhookBody = {
  name: 'Access check',
  trigger_type: 'automatic',
  triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
  // Set to a receiver on 127.0.0.1 before any webhook is made, so test sends stay on this machine.
  urls: [{ url: '' }],
};
const manualBody = {
  name: 'Manual access check',
  trigger_type: 'manual',
  is_all_teams_configured: true,
  urls: webhookBody.urls,
};
const incident = sampleEvent('incident.triggered').data.resource_data;
/** Any valid key may do it, each within its own organization. */
const anyKey = (ok: number) => ({ owner: ok, manager: ok, plainUser: ok, otherOrgOwner: ok });
const onAcme = async (fx: Fixture, suffix = '') => `${BASE}/${(await fx.acmeWebhook()).id}${suffix}`;
/** Managers succeed, plain users are refused, another org does not find acme's webhook. */
const managed = (ok: number) => ({ owner: ok, manager: ok, plainUser: 403, otherOrgOwner: 404 });

const routes: Route[] = [
  {
    name: 'GET events catalog',
    method: 'GET',
    path: () => `${BASE}/events?version=v2`,
    expect: { owner: 200, manager: 200, plainUser: 200, otherOrgOwner: 200 },
  },
  {
    name: 'GET webhooks list',
    method: 'GET',
    path: () => BASE,
    expect: { owner: 200, manager: 200, plainUser: 200, otherOrgOwner: 200 },
  },
  {
    name: 'POST webhook',
    method: 'POST',
    path: () => BASE,
    body: webhookBody,
    // Another org's owner creates in their own org.
    expect: { owner: 201, manager: 201, plainUser: 403, otherOrgOwner: 201 },
  },
  { name: 'GET webhook', method: 'GET', path: (fx) => onAcme(fx), expect: managed(200) },
  { name: 'PUT webhook', method: 'PUT', path: (fx) => onAcme(fx), body: webhookBody, expect: managed(200) },
  { name: 'DELETE webhook', method: 'DELETE', path: (fx) => onAcme(fx), expect: managed(204) },
  { name: 'POST webhook enable', method: 'POST', path: (fx) => onAcme(fx, '/enable'), expect: managed(200) },
  { name: 'POST webhook disable', method: 'POST', path: (fx) => onAcme(fx, '/disable'), expect: managed(200) },
  {
    name: 'POST webhook rotate-secret',
    method: 'POST',
    path: (fx) => onAcme(fx, '/rotate-secret'),
    expect: managed(200),
  },
  { name: 'GET webhook logs', method: 'GET', path: (fx) => onAcme(fx, '/logs'), expect: managed(200) },
  { name: 'GET webhook mails', method: 'GET', path: (fx) => onAcme(fx, '/mails'), expect: managed(200) },
  { name: 'POST webhook test', method: 'POST', path: (fx) => onAcme(fx, '/test'), expect: managed(200) },
  {
    name: 'POST unsaved webhook test',
    method: 'POST',
    path: () => `${BASE}/test`,
    body: webhookBody,
    expect: { owner: 200, manager: 200, plainUser: 403, otherOrgOwner: 200 },
  },
  { name: 'GET templates', method: 'GET', path: () => `${BASE}/templates`, expect: anyKey(200) },
  { name: 'GET template', method: 'GET', path: () => `${BASE}/templates/slack`, expect: anyKey(200) },
  {
    name: 'POST payload validate',
    method: 'POST',
    path: () => `${BASE}/payload/validate`,
    body: { language: 'jsonnet', custom_payload: '{ a: 1 }' },
    expect: { owner: 200, manager: 200, plainUser: 403, otherOrgOwner: 200 },
  },
  {
    name: 'POST event',
    method: 'POST',
    path: () => '/v3/events',
    body: sampleEvent('incident.triggered'),
    expect: anyKey(202),
  },
  {
    name: 'POST manual fire',
    method: 'POST',
    path: async (fx) => `/v3/incidents/${String(incident.id)}/actions/webhook/${(await fx.acmeManualWebhook()).id}`,
    body: { incident },
    expect: { owner: 200, manager: 200, plainUser: 200, otherOrgOwner: 404 },
  },
];

describe('access to every route', () => {
  let h: Harness;
  const keys = {} as Record<Actor, string | undefined>;
  let fx: Fixture;
  let receiver: Receiver;

  beforeAll(async () => {
    h = await startHarness();
    receiver = await startReceiver();
    webhookBody.urls[0].url = `${receiver.url}/hook`;
    const owner = await createApiKey({ org: 'acme', role: 'owner' });
    const revoked = await createApiKey({ org: 'acme', role: 'owner' });
    await revokeApiKey(revoked.organizationId, revoked.keyId);
    keys.none = undefined;
    keys.revoked = revoked.key;
    keys.owner = owner.key;
    keys.manager = (await createApiKey({ org: 'acme', role: 'user', permissions: ['manage_webhook'] })).key;
    keys.plainUser = (await createApiKey({ org: 'acme', role: 'user', teams: ['sre'] })).key;
    keys.otherOrgOwner = (await createApiKey({ org: 'globex', role: 'owner' })).key;
    const create = async (body: unknown) => {
      const res = await call(h.api, 'POST', BASE, { key: owner.key, body });
      if (res.status !== 201) throw new Error(`fixture webhook not created: ${JSON.stringify(res.body)}`);
      return { id: res.body.data.id as string, slug: res.body.data.slug as string };
    };
    fx = { acmeWebhook: () => create(webhookBody), acmeManualWebhook: () => create(manualBody) };
  });
  afterAll(async () => {
    await receiver.close();
    await h.close();
  });

  const cases = routes.flatMap((route) =>
    (['none', 'revoked', 'otherOrgOwner', 'plainUser', 'manager', 'owner'] as Actor[]).map((actor) => ({
      route,
      actor,
      status: actor === 'none' || actor === 'revoked' ? 401 : route.expect[actor],
    })),
  );

  test.each(cases.map((c) => ({ ...c, name: c.route.name })))(
    'when $actor calls $name, then the answer is $status',
    async ({ route, actor, status }) => {
      const res = await call(h.api, route.method, await route.path(fx), { key: keys[actor], body: route.body });
      expect(res.status).toBe(status);
      if (status >= 400) expect(res.body.meta.status).toBe(status);
    },
  );

  test("when another org's owner lists, reads or deletes, then acme's webhook is neither shown nor touched", async () => {
    const { id } = await fx.acmeWebhook();
    const list = await call(h.api, 'GET', `${BASE}?page-limit=100`, { key: keys.otherOrgOwner });
    expect(list.body.data.result.map((w: any) => w.id)).not.toContain(id);
    await call(h.api, 'DELETE', `${BASE}/${id}`, { key: keys.otherOrgOwner });
    expect((await call(h.api, 'GET', `${BASE}/${id}`, { key: keys.owner })).status).toBe(200);
  });
});
