import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApiKey } from '../../../src/access/keys';
import { createApp } from '../../../src/api/app';
import { Webhook } from '../../../src/db/webhook';
import { createLogger } from '../../../src/logger';
import { EVENT_CATALOG } from '../../../src/shared/catalog';
import { call, startHarness, testConfig, type Harness } from '../../support/harness';

const BASE = '/v3/extensions/event-webhooks';

const automatic = (over: Record<string, unknown> = {}) => ({
  name: 'Incident alerts',
  trigger_type: 'automatic',
  triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
  urls: [{ url: 'https://hooks.example.com/in' }],
  ...over,
});

describe('webhooks API', () => {
  let h: Harness;
  let owner: string;
  let manager: string;
  let otherOwner: string;
  let sreUser: string;
  let sreTeamId: string;
  let opsTeamId: string;

  beforeAll(async () => {
    h = await startHarness();
    owner = (await createApiKey({ org: 'acme', role: 'owner' })).key;
    manager = (await createApiKey({ org: 'acme', role: 'user', permissions: ['manage_webhook'] })).key;
    otherOwner = (await createApiKey({ org: 'globex', role: 'owner' })).key;
    const sre = await createApiKey({ org: 'acme', role: 'user', teams: ['sre'] });
    sreUser = sre.key;
    sreTeamId = sre.teamIds[0];
    opsTeamId = (await createApiKey({ org: 'acme', role: 'user', teams: ['ops'] })).teamIds[0];
  });
  afterAll(async () => h.close());

  const post = (body: unknown, key = owner) => call(h.api, 'POST', BASE, { key, body });

  describe('POST /v3/extensions/event-webhooks', () => {
    test('when a valid automatic webhook is posted, then it is created with defaults, a slug and a secret', async () => {
      const res = await post(automatic({ header: { Authorization: 'Bearer abc' }, mail_ids: ['oncall@example.com'] }));
      expect(res.status).toBe(201);
      const w = res.body.data;
      expect(w).toMatchObject({
        name: 'Incident alerts',
        slug: 'incident-alerts',
        description: '',
        trigger_type: 'automatic',
        version: 'v2',
        triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
        urls: [{ url: 'https://hooks.example.com/in', method: 'POST' }],
        header: { Authorization: '********' },
        filters: null,
        max_retry: 3,
        teams: [],
        is_all_teams_configured: false,
        mail_ids: ['oncall@example.com'],
        payload_type: 'standard',
        language: 'jsonnet',
        enabled: true,
      });
      expect(w.id).toMatch(/^[0-9a-f]{24}$/);
      expect(w.organization_id).toMatch(/^[0-9a-f]{24}$/);
      expect(w.author_id).toMatch(/^[0-9a-f]{24}$/);
      expect(Buffer.from(w.secret.replace(/^whsec_/, ''), 'base64')).toHaveLength(32);
      expect(w.secret).toMatch(/^whsec_/);
      expect(Date.parse(w.created_at)).not.toBeNaN();
      expect(Date.parse(w.updated_at)).not.toBeNaN();
      const stored = await Webhook.findById(w.id).lean();
      expect(stored?.headers).toEqual([{ name: 'Authorization', value: 'Bearer abc' }]);
    });

    test('when the same name is used twice, then the second webhook gets a different slug', async () => {
      const a = await post(automatic({ name: 'Twin' }));
      const b = await post(automatic({ name: 'Twin' }));
      expect(a.body.data.slug).toBe('twin');
      expect(b.body.data.slug).toMatch(/^twin-[0-9a-f]{6}$/);
    });

    test('when a manage_webhook user posts, then the webhook is created with them as author', async () => {
      const res = await post(automatic({ name: 'By manager' }), manager);
      expect(res.status).toBe(201);
    });

    test('when the shape is wrong, then the answer is 400 listing every bad field and nothing is saved', async () => {
      const before = await Webhook.countDocuments();
      const res = await post({
        name: '',
        trigger_type: 'sometimes',
        urls: [],
        max_retry: 11,
        version: 'v3',
        header: { 'X-A': 5 },
        filters: 'team is sre',
        max_retries: 2,
      });
      expect(res.status).toBe(400);
      expect(res.body.meta.status).toBe(400);
      const fields = res.body.meta.errors.map((e: any) => e.field).sort();
      expect(fields).toEqual(
        ['filters', 'header.X-A', 'max_retries', 'max_retry', 'name', 'trigger_type', 'urls', 'version'].sort(),
      );
      expect(await Webhook.countDocuments()).toBe(before);
    });

    test('when required fields are missing, then each is reported as required', async () => {
      const res = await post({});
      expect(res.status).toBe(400);
      expect(res.body.meta.errors).toEqual(
        expect.arrayContaining([
          { field: 'name', message: 'is required' },
          { field: 'trigger_type', message: 'is required' },
          { field: 'urls', message: 'is required' },
        ]),
      );
    });

    test('when the values make no sense, then the answer is 422 listing every bad field and nothing is saved', async () => {
      const before = await Webhook.countDocuments();
      const res = await post(
        automatic({
          version: 'v1',
          triggers: [
            { event_class: 'incident', event_type: 'incident.triggered' },
            { event_class: 'incident', event_type: 'incident_resolved' },
            { event_class: 'task', event_type: 'incident_acknowledged' },
          ],
          urls: [
            { url: 'ftp://example.com/x' },
            { url: 'not a url' },
            { url: 'https://ok.example.com', method: 'PUT' },
          ],
          header: {
            'Content-Type': 'text/plain',
            'webhook-id': 'x',
            'Bad Name': 'v',
            'X-Ok': 'a\r\nb',
            'User-Agent': 'x',
            'X-Euro': '€',
          },
          mail_ids: ['nobody', 'a@example.com', 'A@example.com'],
          filters: { op: 'and', conditions: [{ op: 'is', lhs: 'owner', rhs: 'x' }] },
          teams: ['sre'],
        }),
      );
      expect(res.status).toBe(422);
      const fields = res.body.meta.errors.map((e: any) => e.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'triggers.0.event_type',
          'triggers.2.event_class',
          'urls.0.url',
          'urls.1.url',
          'header.Content-Type',
          'header.webhook-id',
          'header.Bad Name',
          'header.X-Ok',
          'header.User-Agent',
          'header.X-Euro',
          'mail_ids.0',
          'mail_ids.2',
          'filters.conditions.0.lhs',
          'teams',
        ]),
      );
      expect(fields).not.toContain('triggers.1.event_type');
      expect(fields).not.toContain('urls.2.url');
      expect(await Webhook.countDocuments()).toBe(before);
    });

    test('when an automatic webhook has no triggers, then the answer is 422', async () => {
      const res = await post(automatic({ triggers: [] }));
      expect(res.status).toBe(422);
      expect(res.body.meta.errors).toEqual([
        { field: 'triggers', message: 'automatic webhooks need at least one trigger' },
      ]);
    });

    test('when a custom payload renders for every trigger, then it is saved as written', async () => {
      const template = '{ text: root.data.resource_data.message, kind: root.event.type }';
      const res = await post(automatic({ payload_type: 'custom', custom_payload: template }));
      expect(res.status).toBe(201);
      expect(res.body.data).toMatchObject({ payload_type: 'custom', custom_payload: template, language: 'jsonnet' });
    });

    test('when a custom payload fails for one trigger event, then the answer is 422 naming that event', async () => {
      // resource_data.tasks exists only on task events, so incident.triggered fails and is named.
      const res = await post(
        automatic({
          triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
          payload_type: 'custom',
          custom_payload: '{\n  n: std.length(root.data.resource_data.tasks),\n}',
        }),
      );
      expect(res.status).toBe(422);
      const [error] = res.body.meta.errors;
      expect(error.field).toBe('custom_payload');
      expect(error.message).toMatch(/incident\.triggered/);
      expect(error.message).toMatch(/line 2, column 17/);
    });

    test('when a custom payload comes with an unknown trigger event type, then the answer is 422 naming the trigger, not 500', async () => {
      // Found by the fuzzer: the template check asked for the unknown type's sample event.
      const res = await post(
        automatic({
          triggers: [{ event_class: 'incident', event_type: 'no.such.event' }],
          payload_type: 'custom',
          custom_payload: '{ a: 1 }',
        }),
      );
      expect(res.status).toBe(422);
      expect(res.body.meta.errors.map((e: { field: string }) => e.field)).toContain('triggers.0.event_type');
    });

    test('when only a template slug is given, then the library code is copied into custom_payload', async () => {
      const res = await post(automatic({ payload_type: 'custom', custom_payload_template_slug: 'slack' }));
      expect(res.status).toBe(201);
      expect(res.body.data.custom_payload).toContain('root');
      expect(res.body.data.custom_payload_template_slug).toBe('slack');
    });

    test('when a manual webhook names teams by id or slug, then they are stored as team ids', async () => {
      const res = await post({
        name: 'Page the DB team',
        trigger_type: 'manual',
        teams: [sreTeamId, 'ops'],
        urls: [{ url: 'https://hooks.example.com/manual' }],
      });
      expect(res.status).toBe(201);
      expect(res.body.data.teams).toEqual([sreTeamId, opsTeamId]);
      expect(res.body.data.triggers).toEqual([]);
    });

    test('when a manual webhook has triggers, filters, no teams or an unknown team, then the answer is 422', async () => {
      const res = await post({
        name: 'Bad manual',
        trigger_type: 'manual',
        triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
        filters: { op: 'and', conditions: [{ op: 'is', lhs: 'team', rhs: 'x' }] },
        urls: [{ url: 'https://hooks.example.com/manual' }],
      });
      expect(res.status).toBe(422);
      expect(res.body.meta.errors.map((e: any) => e.field).sort()).toEqual(['filters', 'teams', 'triggers']);
      const unknown = await post({
        name: 'Unknown team',
        trigger_type: 'manual',
        teams: ['nope', '0123456789abcdef01234567'],
        urls: [{ url: 'https://hooks.example.com/manual' }],
      });
      expect(unknown.status).toBe(422);
      expect(unknown.body.meta.errors.map((e: any) => e.field)).toEqual(['teams.0', 'teams.1']);
    });

    test('when another org names our team, then it is unknown to them', async () => {
      const res = await post(
        { name: 'x', trigger_type: 'manual', teams: [sreTeamId], urls: [{ url: 'https://a.example.com' }] },
        otherOwner,
      );
      expect(res.status).toBe(422);
    });

    test.each(['__proto__', '__PROTO__'])(
      'when a header is named %s, then it is refused by name rather than silently dropped',
      async (name) => {
        // As text: an object literal would set the prototype instead of making a key.
        const raw = JSON.stringify(automatic({ name: 'Proto' })).replace(/}$/, `,"header":{"${name}":"x"}}`);
        const res = await call(h.api, 'POST', BASE, { key: owner, raw });
        expect(res.status).toBe(400);
        expect(res.body.meta.errors).toEqual([{ field: `header.${name}`, message: 'is not a valid HTTP header name' }]);
      },
    );

    test('when the header name and the filter tag key contain dots, then they are saved and read back', async () => {
      const filters = {
        op: 'or',
        conditions: [
          { op: 'is', lhs: 'tag:k8s.io/cluster', rhs: 'prod.eu-1' },
          { op: 'and', conditions: [{ op: 'in', lhs: 'priority', rhs: ['P1', 'P2'] }] },
        ],
      };
      const created = await post(automatic({ name: 'Dotted', header: { 'X.Tenant.Id': 'acme.prod' }, filters }));
      expect(created.status).toBe(201);
      const read = await call(h.api, 'GET', `${BASE}/${created.body.data.id}`, { key: owner });
      expect(read.body.data.header).toEqual({ 'X.Tenant.Id': '********' });
      expect(read.body.data.filters).toEqual(filters);
      const stored = await Webhook.findById(created.body.data.id).lean();
      expect(stored?.headers).toEqual([{ name: 'X.Tenant.Id', value: 'acme.prod' }]);
      expect(JSON.parse(stored!.filterLogic!)).toBeTruthy();
    });

    test('when filters have no conditions, then they are kept as given and match every event', async () => {
      const res = await post(automatic({ name: 'Empty filters', filters: { op: 'and', conditions: [] } }));
      expect(res.status).toBe(201);
      expect(res.body.data.filters).toEqual({ op: 'and', conditions: [] });
      const stored = await Webhook.findById(res.body.data.id).lean();
      expect(stored?.filterLogic).toBeNull();
    });

    test('when raw json_logic is posted, then it is stored; when it uses a foreign operator, then 422', async () => {
      const ok = await post(
        automatic({ name: 'Raw', filters: { json_logic: { '===': [{ var: 'priority' }, 'P1'] } } }),
      );
      expect(ok.status).toBe(201);
      expect(ok.body.data.filters).toEqual({ json_logic: { '===': [{ var: 'priority' }, 'P1'] } });
      const bad = await post(automatic({ name: 'Raw', filters: { json_logic: { log: 'x' } } }));
      expect(bad.status).toBe(422);
      expect(bad.body.meta.errors[0].field).toBe('filters.json_logic');
    });

    test('when raw json_logic could blow up when evaluated (string doubling, nested iteration), then 422 naming the path and why', async () => {
      const doubling = {
        reduce: [[...Array(26).keys()], { cat: [{ var: 'accumulator' }, { var: 'accumulator' }] }, 'xy'],
      };
      const exploit = { '>': [{ map: [[...Array(64).keys()], { substr: [doubling, 1] }] }, 0] };
      const bad = await post(automatic({ name: 'Exploit', filters: { json_logic: exploit } }));
      expect(bad.status).toBe(422);
      expect(bad.body.meta.errors[0]).toEqual({
        field: 'filters.json_logic.>.0',
        message: expect.stringMatching(/^"map" is not allowed in filters/),
      });
      expect(bad.body.meta.errors.map((e: any) => e.field)).toContain('filters.json_logic.>.0.map.1.substr.0');
      const nested = { some: [{ var: 'tags' }, { none: [{ var: 'tags' }, true] }] };
      const refused = await post(automatic({ name: 'Nested', filters: { json_logic: nested } }));
      expect(refused.status).toBe(422);
      expect(refused.body.meta.errors).toEqual([
        { field: 'filters.json_logic.some.1', message: expect.stringMatching(/nested iteration/) },
      ]);
    });

    test('when the body is malformed JSON or over 256 KB, then the answer is 400 or 413', async () => {
      expect((await call(h.api, 'POST', BASE, { key: owner, raw: '{"name":' })).status).toBe(400);
      const big = JSON.stringify(automatic({ description: 'x'.repeat(300 * 1024) }));
      expect((await call(h.api, 'POST', BASE, { key: owner, raw: big })).status).toBe(413);
    });

    test('when a response field read back is posted again, then it is ignored', async () => {
      const res = await post(automatic({ name: 'Round trip', id: 'x', slug: 'y', secret: 'z', created_at: 'now' }));
      expect(res.status).toBe(201);
      expect(res.body.data.slug).toBe('round-trip');
    });
  });

  describe('URL safety at save', () => {
    let strictApi: string;
    let server: Server;
    beforeAll(async () => {
      const config = { ...testConfig({ ALLOW_PRIVATE_TARGETS: 'false' }), MONGODB_URI: h.config.MONGODB_URI };
      const app = createApp({ temporal: h.temporal, config, logger: createLogger('api', 'error') });
      server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      strictApi = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    test('when ALLOW_PRIVATE_TARGETS is false, then loopback, private, link-local, ULA and localhost URLs are refused', async () => {
      const urls = [
        'http://localhost:9000/x',
        'http://127.0.0.1/x',
        'http://10.1.2.3/x',
        'http://169.254.169.254/latest',
        'http://[fd00::1]/x',
        'http://[::ffff:192.168.0.1]/x',
        'https://hooks.example.com/ok',
      ];
      const res = await call(strictApi, 'POST', BASE, {
        key: owner,
        body: automatic({ urls: urls.map((url) => ({ url })) }),
      });
      expect(res.status).toBe(422);
      expect(res.body.meta.errors.map((e: any) => e.field)).toEqual(urls.slice(0, -1).map((_, i) => `urls.${i}.url`));
    });

    test('when ALLOW_PRIVATE_TARGETS is true, then a loopback URL is accepted', async () => {
      const res = await post(automatic({ name: 'Local', urls: [{ url: 'http://127.0.0.1:9/x' }] }));
      expect(res.status).toBe(201);
    });
  });

  describe('GET /v3/extensions/event-webhooks', () => {
    test('when the list is paged, then page-limit and offset apply, total_count counts all, and no secret is shown', async () => {
      const all = await call(h.api, 'GET', `${BASE}?page-limit=100`, { key: owner });
      expect(all.status).toBe(200);
      const total = all.body.data.meta.total_count;
      expect(total).toBe(all.body.data.result.length);
      expect(total).toBeGreaterThan(3);
      const page = await call(h.api, 'GET', `${BASE}?page-limit=2&offset=1`, { key: owner });
      expect(page.body.data.meta.total_count).toBe(total);
      expect(page.body.data.result.map((w: any) => w.id)).toEqual(
        all.body.data.result.slice(1, 3).map((w: any) => w.id),
      );
      for (const w of all.body.data.result) {
        expect(w).not.toHaveProperty('secret');
        expect(Object.values(w.header).every((v) => v === '********')).toBe(true);
      }
    });

    test('when page-limit or offset is not a valid number, then the answer is 400', async () => {
      expect((await call(h.api, 'GET', `${BASE}?page-limit=0`, { key: owner })).status).toBe(400);
      expect((await call(h.api, 'GET', `${BASE}?offset=-1`, { key: owner })).status).toBe(400);
      expect((await call(h.api, 'GET', `${BASE}?page-limit=abc`, { key: owner })).status).toBe(400);
    });

    test('when another org lists, then it sees none of ours', async () => {
      const res = await call(h.api, 'GET', BASE, { key: otherOwner });
      expect(res.status).toBe(200);
      expect(res.body.data.result.every((w: any) => w.organization_id !== undefined)).toBe(true);
      const ours = await call(h.api, 'GET', `${BASE}?page-limit=100`, { key: owner });
      const ourIds = new Set(ours.body.data.result.map((w: any) => w.id));
      expect(res.body.data.result.some((w: any) => ourIds.has(w.id))).toBe(false);
    });

    test('when a plain user lists, then only enabled manual webhooks of their teams or all teams are shown', async () => {
      const mk = async (name: string, over: Record<string, unknown>) =>
        (await post({ name, trigger_type: 'manual', urls: [{ url: 'https://a.example.com' }], ...over })).body.data.id;
      const sreOnly = await mk('SRE only', { teams: [sreTeamId] });
      const everyone = await mk('Everyone', { is_all_teams_configured: true });
      const opsOnly = await mk('Ops only', { teams: [opsTeamId] });
      const disabled = await mk('SRE disabled', { teams: [sreTeamId], enabled: false });
      const res = await call(h.api, 'GET', `${BASE}?page-limit=100`, { key: sreUser });
      expect(res.status).toBe(200);
      const ids = res.body.data.result.map((w: any) => w.id);
      expect(ids).toEqual(expect.arrayContaining([sreOnly, everyone]));
      expect(ids).not.toContain(opsOnly);
      expect(ids).not.toContain(disabled);
      expect(res.body.data.result.every((w: any) => w.trigger_type === 'manual')).toBe(true);
      expect(res.body.data.meta.total_count).toBe(ids.length);
      // A plain user learns what they may fire, never where it sends or who is mailed.
      for (const w of res.body.data.result) {
        expect(Object.keys(w)).not.toEqual(expect.arrayContaining(['urls']));
        expect(w).not.toHaveProperty('mail_ids');
        expect(w).not.toHaveProperty('custom_payload');
        expect(w).not.toHaveProperty('secret');
      }
    });
  });

  describe('GET /v3/extensions/event-webhooks/{id}', () => {
    test('when read by id or by slug, then the same webhook comes back with its secret', async () => {
      const created = (await post(automatic({ name: 'Readable' }))).body.data;
      const byId = await call(h.api, 'GET', `${BASE}/${created.id}`, { key: owner });
      const bySlug = await call(h.api, 'GET', `${BASE}/${created.slug}`, { key: manager });
      expect(byId.status).toBe(200);
      expect(byId.body.data).toEqual(bySlug.body.data);
      expect(byId.body.data.secret).toBe(created.secret);
    });

    test('when the id is unknown or another org owns it, then the answer is 404', async () => {
      const created = (await post(automatic({ name: 'Private to acme' }))).body.data;
      expect((await call(h.api, 'GET', `${BASE}/${created.id}`, { key: otherOwner })).status).toBe(404);
      expect((await call(h.api, 'GET', `${BASE}/${created.slug}`, { key: otherOwner })).status).toBe(404);
      expect((await call(h.api, 'GET', `${BASE}/0123456789abcdef01234567`, { key: owner })).status).toBe(404);
    });
  });

  describe('PUT /v3/extensions/event-webhooks/{id}', () => {
    test('when a webhook is replaced, then omitted fields take their defaults and id, slug and secret stay', async () => {
      const created = (
        await post(
          automatic({
            name: 'Replace me',
            description: 'old',
            max_retry: 7,
            header: { 'X-Keep': 'k1', 'X-Drop': 'd' },
          }),
        )
      ).body.data;
      const res = await call(h.api, 'PUT', `${BASE}/${created.id}`, {
        key: owner,
        body: automatic({
          name: 'Replaced',
          version: 'v1',
          triggers: [{ event_class: 'incident', event_type: 'incident_resolved' }],
          header: { 'X-Keep': '********', 'X-New': 'n' },
        }),
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({
        id: created.id,
        slug: created.slug,
        name: 'Replaced',
        description: '',
        max_retry: 3,
        version: 'v1',
        header: { 'X-Keep': '********', 'X-New': '********' },
      });
      expect(res.body.data.secret).toBe(created.secret);
      const stored = await Webhook.findById(created.id).lean();
      expect(stored?.headers).toEqual([
        { name: 'X-Keep', value: 'k1' },
        { name: 'X-New', value: 'n' },
      ]);
      expect(stored?.secrets[0].value).toBe(created.secret);
      expect(new Date(res.body.data.created_at).getTime()).toBe(new Date(created.created_at).getTime());
    });

    test('when a replacement keeps a masked header but adds a URL, then the real value is required', async () => {
      const created = (await post(automatic({ name: 'Jira', header: { Authorization: 'Bearer secret-token' } }))).body
        .data;
      // Even on the same host: shared hosts (workflow-automation services) serve many tenants.
      for (const url of ['https://attacker.example.net/collect', 'https://hooks.example.com/someone-else']) {
        const moved = automatic({
          name: 'Jira',
          urls: [{ url, method: 'POST' }],
          header: { Authorization: '********' },
        });
        const res = await call(h.api, 'PUT', `${BASE}/${created.id}`, { key: owner, body: moved });
        expect(res.status).toBe(422);
        expect(res.body.meta.errors).toEqual([
          {
            field: 'header.Authorization',
            message: `is the masked placeholder; send the real value again to add ${url}`,
          },
        ]);
      }
      // The same URL with another method: the stored value is kept.
      const samePlace = automatic({
        name: 'Jira',
        urls: [{ url: 'https://hooks.example.com/in', method: 'PUT' }],
        header: { Authorization: '********' },
      });
      expect((await call(h.api, 'PUT', `${BASE}/${created.id}`, { key: owner, body: samePlace })).status).toBe(200);
      const stored = await Webhook.findById(created.id).lean();
      expect(stored?.headers).toEqual([{ name: 'Authorization', value: 'Bearer secret-token' }]);
    });

    test('when a URL is listed twice (even with two methods), then the answer is 422 naming the second', async () => {
      const twice = automatic({
        urls: [
          { url: 'https://hooks.example.com/in', method: 'POST' },
          { url: 'https://hooks.example.com/in', method: 'PUT' },
        ],
      });
      const res = await post(twice);
      expect(res.status).toBe(422);
      expect(res.body.meta.errors).toEqual([{ field: 'urls.1.url', message: 'is listed twice' }]);
    });

    test('when the replacement is invalid, then the answer is 422 and the stored webhook is unchanged', async () => {
      const created = (await post(automatic({ name: 'Stay as is', header: { 'X-A': 'a' } }))).body.data;
      const res = await call(h.api, 'PUT', `${BASE}/${created.id}`, {
        key: owner,
        body: automatic({ name: 'Changed', header: { 'X-B': '********' }, mail_ids: ['bad'] }),
      });
      expect(res.status).toBe(422);
      expect(res.body.meta.errors.map((e: any) => e.field).sort()).toEqual(['header.X-B', 'mail_ids.0']);
      const read = await call(h.api, 'GET', `${BASE}/${created.id}`, { key: owner });
      expect(read.body.data.name).toBe('Stay as is');
      expect(read.body.data.updated_at).toBe(created.updated_at);
    });

    test('when another org replaces our webhook, then the answer is 404', async () => {
      const created = (await post(automatic({ name: 'Not yours' }))).body.data;
      const res = await call(h.api, 'PUT', `${BASE}/${created.id}`, { key: otherOwner, body: automatic() });
      expect(res.status).toBe(404);
    });
  });

  describe('POST /v3/extensions/event-webhooks/{id}/enable and /disable', () => {
    test('when a webhook is disabled and enabled again, then enabled follows', async () => {
      const created = (await post(automatic({ name: 'Toggle' }))).body.data;
      const off = await call(h.api, 'POST', `${BASE}/${created.slug}/disable`, { key: manager });
      expect(off.status).toBe(200);
      expect(off.body.data.enabled).toBe(false);
      const on = await call(h.api, 'POST', `${BASE}/${created.id}/enable`, { key: owner });
      expect(on.body.data.enabled).toBe(true);
    });
  });

  describe('DELETE /v3/extensions/event-webhooks/{id}', () => {
    test('when a webhook is deleted, then it answers 204 and is gone', async () => {
      const created = (await post(automatic({ name: 'Delete me' }))).body.data;
      const res = await call(h.api, 'DELETE', `${BASE}/${created.id}`, { key: owner });
      expect(res.status).toBe(204);
      expect((await call(h.api, 'GET', `${BASE}/${created.id}`, { key: owner })).status).toBe(404);
      expect((await call(h.api, 'DELETE', `${BASE}/${created.id}`, { key: owner })).status).toBe(404);
    });
  });

  describe('POST /v3/extensions/event-webhooks/{id}/rotate-secret', () => {
    test('when the secret is rotated, then a new one is current and the old one stays valid for the grace period', async () => {
      const created = (await post(automatic({ name: 'Rotate' }))).body.data;
      const before = Date.now();
      const res = await call(h.api, 'POST', `${BASE}/${created.id}/rotate-secret`, { key: owner });
      expect(res.status).toBe(200);
      expect(res.body.data.secret).toMatch(/^whsec_/);
      expect(res.body.data.secret).not.toBe(created.secret);
      const stored = await Webhook.findById(created.id).lean();
      expect(stored!.secrets.map((s) => s.value)).toEqual([res.body.data.secret, created.secret]);
      expect(stored!.secrets[0].expiresAt).toBeNull();
      const expires = stored!.secrets[1].expiresAt!.getTime();
      expect(expires).toBeGreaterThanOrEqual(before + h.config.SECRET_ROTATION_GRACE_MS);
      expect(expires).toBeLessThanOrEqual(Date.now() + h.config.SECRET_ROTATION_GRACE_MS);
    });

    test('when rotated with grace_ms 0 (a leaked secret), then only the new secret signs; a grace over the limit is 400', async () => {
      const created = (await post(automatic({ name: 'Leaked' }))).body.data;
      // One ordinary rotation first: both earlier secrets must go.
      await call(h.api, 'POST', `${BASE}/${created.id}/rotate-secret`, { key: owner });
      const res = await call(h.api, 'POST', `${BASE}/${created.id}/rotate-secret`, {
        key: owner,
        body: { grace_ms: 0 },
      });
      expect(res.status).toBe(200);
      const stored = await Webhook.findById(created.id).lean();
      expect(stored!.secrets.map((s) => s.value)).toEqual([res.body.data.secret]);
      const tooLong = await call(h.api, 'POST', `${BASE}/${created.id}/rotate-secret`, {
        key: owner,
        body: { grace_ms: h.config.SECRET_ROTATION_GRACE_MS + 1 },
      });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.meta.errors[0].field).toBe('grace_ms');
    });
  });

  describe('GET /v3/extensions/event-webhooks/events', () => {
    test('when the version is v1 or v2, then that catalog comes back as event_class/event_type pairs', async () => {
      const v1 = await call(h.api, 'GET', `${BASE}/events?version=v1`, { key: sreUser });
      expect(v1.status).toBe(200);
      expect(v1.body.data).toEqual(EVENT_CATALOG.v1);
      expect(v1.body.data).toHaveLength(4);
      const v2 = await call(h.api, 'GET', `${BASE}/events?version=v2`, { key: owner });
      expect(v2.body.data).toEqual(EVENT_CATALOG.v2);
      expect(v2.body.data).toContainEqual({
        event_class: 'incident_notes',
        event_type: 'incident.incident_notes_starred',
      });
    });

    test('when the version is missing, then v2 is assumed; when it is unknown, then the answer is 400', async () => {
      expect((await call(h.api, 'GET', `${BASE}/events`, { key: owner })).body.data).toEqual(EVENT_CATALOG.v2);
      const bad = await call(h.api, 'GET', `${BASE}/events?version=v3`, { key: owner });
      expect(bad.status).toBe(400);
      expect(bad.body.meta.errors[0].field).toBe('version');
    });
  });
});
