import { createApiKey } from '../../../src/access/keys';
import { closeSharedTemplateEngine, sharedTemplateEngine } from '../../../src/templates/engine';
import { libraryTemplates } from '../../../src/templates/library';
import { call, startHarness, type Harness } from '../../support/harness';

const BASE = '/v3/extensions/event-webhooks';

describe('template API', () => {
  let h: Harness;
  let owner: string;
  let manager: string;
  let plainUser: string;

  beforeAll(async () => {
    h = await startHarness();
    owner = (await createApiKey({ org: 'acme', role: 'owner' })).key;
    manager = (await createApiKey({ org: 'acme', role: 'user', permissions: ['manage_webhook'] })).key;
    plainUser = (await createApiKey({ org: 'acme', role: 'user' })).key;
    // The first render on a fresh machine builds the evaluator; do it outside any one test's clock
    // (and any HTTP client's): the routes use this same process-wide engine.
    await sharedTemplateEngine(h.config).ready();
  }, 10 * 60_000);
  afterAll(async () => {
    await closeSharedTemplateEngine();
    await h.close();
  });

  describe('GET /v3/extensions/event-webhooks/templates', () => {
    it('when any key of the org lists templates, then every library template is listed without its code', async () => {
      const res = await call(h.api, 'GET', `${BASE}/templates`, { key: plainUser });
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(libraryTemplates().length);
      expect(res.body.data.length).toBeGreaterThanOrEqual(14);
      const slack = res.body.data.find((t: any) => t.slug === 'slack');
      expect(slack).toEqual({
        slug: 'slack',
        name: 'Slack message',
        language: 'jsonnet',
        target: 'Slack',
        description: expect.any(String),
      });
    });

    it('when there is no API key, then it is a 401', async () => {
      expect((await call(h.api, 'GET', `${BASE}/templates`)).status).toBe(401);
    });
  });

  describe('GET /v3/extensions/event-webhooks/templates/{slug}', () => {
    it('when the slug exists, then the template comes with its template-code', async () => {
      const res = await call(h.api, 'GET', `${BASE}/templates/jira-create-issue`, { key: plainUser });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ slug: 'jira-create-issue', language: 'jsonnet', target: 'Jira' });
      expect(res.body.data['template-code']).toContain('root');
    });

    it('when the slug is unknown, then it is a 404', async () => {
      const res = await call(h.api, 'GET', `${BASE}/templates/no-such-template`, { key: owner });
      expect(res.status).toBe(404);
      expect(res.body.meta.error_message).toMatch(/no-such-template/);
    });
  });

  describe('POST /v3/extensions/event-webhooks/payload/validate', () => {
    const validate = (key: string, body: unknown) => call(h.api, 'POST', `${BASE}/payload/validate`, { key, body });

    it('when the template renders, then it is valid and the rendered sample comes back', async () => {
      const res = await validate(manager, {
        language: 'jsonnet',
        custom_payload: '{ text: root.data.resource_data.message, status: root.data.resource_data.status }',
        event_type: 'incident.acknowledged',
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        valid: true,
        event_type: 'incident.acknowledged',
        rendered: { text: 'test incident', status: 'acknowledged' },
      });
    });

    it('when no event type is given, then the sample is an incident.triggered event', async () => {
      const res = await validate(owner, { language: 'jsonnet', custom_payload: '{ type: root.event.type }' });
      expect(res.body.data).toMatchObject({ valid: true, rendered: { type: 'incident.triggered' } });
    });

    it('when the webhook is v1, then the v1 event type is rendered with the v2 payload as root', async () => {
      const res = await validate(owner, {
        language: 'jsonnet',
        custom_payload: '{ type: root.event.type }',
        version: 'v1',
        event_type: 'incident_resolved',
      });
      expect(res.body.data).toMatchObject({ valid: true, rendered: { type: 'incident.resolved' } });
    });

    it('when the template is for a non-incident event, then its sample carries data.incident', async () => {
      const res = await validate(owner, {
        language: 'jsonnet',
        custom_payload: '{ note: root.data.resource_type, incident: root.data.incident.id }',
        event_type: 'incident.incident_notes_created',
      });
      expect(res.body.data).toMatchObject({ valid: true, rendered: { note: 'incident_notes' } });
    });

    it('when a library template is validated, then it is valid', async () => {
      const code = (await call(h.api, 'GET', `${BASE}/templates/slack`, { key: owner })).body.data['template-code'];
      const res = await validate(owner, { language: 'jsonnet', custom_payload: code, event_type: 'incident.resolved' });
      expect(res.body.data.valid).toBe(true);
      expect(res.body.data.rendered.text).toMatch(/resolved/);
    });

    it('when the template fails, then it is not valid and the error has the message, line and column', async () => {
      const res = await validate(owner, {
        language: 'jsonnet',
        custom_payload: '{\n  text: root.data.resource_data.nope,\n}',
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        valid: false,
        event_type: 'incident.triggered',
        error: { message: 'Field does not exist: nope', line: 2, column: 9 },
      });
    });

    it('when the template does not parse, then the error says where', async () => {
      const res = await validate(owner, { language: 'jsonnet', custom_payload: '{ text: }' });
      expect(res.body.data.valid).toBe(false);
      expect(res.body.data.error).toMatchObject({ line: 1, column: 9 });
    });

    it('when custom_payload is missing or not a string, then it is a 400 naming the field', async () => {
      for (const body of [{ language: 'jsonnet' }, { language: 'jsonnet', custom_payload: 42 }]) {
        const res = await validate(owner, body);
        expect(res.status).toBe(400);
        expect(res.body.meta.errors).toEqual([expect.objectContaining({ field: 'custom_payload' })]);
      }
    });

    it('when the version is not v1 or v2, then it is a 400 naming the field', async () => {
      const res = await validate(owner, { language: 'jsonnet', custom_payload: '{}', version: 'v3' });
      expect(res.status).toBe(400);
      expect(res.body.meta.errors[0].field).toBe('version');
    });

    it('when the language is not jsonnet, then it is a 422 naming the field', async () => {
      const res = await validate(owner, { language: 'handlebars', custom_payload: '{{x}}' });
      expect(res.status).toBe(422);
      expect(res.body.meta.errors).toEqual([{ field: 'language', message: 'must be "jsonnet"' }]);
    });

    it('when the event type is not in the version catalog, then it is a 422 naming the field', async () => {
      for (const [version, event_type] of [
        ['v2', 'incident.exploded'],
        ['v1', 'incident.triggered'],
      ]) {
        const res = await validate(owner, { language: 'jsonnet', custom_payload: '{}', version, event_type });
        expect(res.status).toBe(422);
        expect(res.body.meta.errors[0].field).toBe('event_type');
      }
    });

    it('when the caller may not manage webhooks, then it is a 403', async () => {
      const res = await validate(plainUser, { language: 'jsonnet', custom_payload: '{}' });
      expect(res.status).toBe(403);
    });
  });
});
