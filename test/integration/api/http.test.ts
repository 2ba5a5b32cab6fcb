import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { freshEvent } from '../../support/deliveries';
import { call, startHarness, testConfig, type Harness } from '../../support/harness';

describe('HTTP semantics shared by every route', () => {
  let h: Harness;
  let owner: CreatedKey;

  beforeAll(async () => {
    h = await startHarness(testConfig());
    owner = await createApiKey({ org: 'acme', role: 'owner' });
  });
  afterAll(async () => h?.close());

  test.each([
    ['PATCH', '/v3/extensions/event-webhooks', 'GET, HEAD, POST'],
    ['DELETE', '/v3/events', 'POST'],
    ['GET', '/v3/extensions/event-webhooks/payload/validate', 'POST'],
    ['POST', '/healthz', 'GET, HEAD'],
  ])('when %s is sent to %s, then the answer is 405 with Allow: %s', async (method, path, allow) => {
    const res = await call(h.api, method, path, { key: owner.key });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.body.meta.error_message).toContain(allow);
  });

  test('when a body holds a NUL character in a string or a key, then the answer is 400 naming where, not a failed write (found by the fuzzer: 500)', async () => {
    const webhook = {
      name: 'a\u0000b',
      trigger_type: 'automatic',
      triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
      urls: [{ url: 'https://hooks.example.com/in' }],
    };
    const created = await call(h.api, 'POST', '/v3/extensions/event-webhooks', { key: owner.key, body: webhook });
    expect(created.status).toBe(400);
    expect(created.body.meta.errors).toEqual([{ field: 'name', message: 'must not contain a NUL character' }]);
    const event = freshEvent();
    (event.data as Record<string, unknown>).notes = [{ 'by\u0000': 'x' }];
    const posted = await call(h.api, 'POST', '/v3/events', { key: owner.key, body: event });
    expect(posted.status).toBe(400);
    expect(posted.body.meta.errors[0].field).toBe('data.notes.0.by\u0000');
    // An escaped backslash before "u0000" is no NUL: the webhook is made.
    const named = await call(h.api, 'POST', '/v3/extensions/event-webhooks', {
      key: owner.key,
      body: { ...webhook, name: 'a\\u0000b' },
    });
    expect(named.status).toBe(201);
  });

  test('when the path is unknown, then the answer is still 404', async () => {
    const res = await call(h.api, 'GET', '/v3/nothing-here', { key: owner.key });
    expect(res.status).toBe(404);
    expect(res.headers.get('allow')).toBeNull();
  });

  test.each(['text/plain', 'application/x-www-form-urlencoded'])(
    'when a JSON body is sent as %s, then the answer is 415 and nothing is accepted',
    async (type) => {
      const res = await call(h.api, 'POST', '/v3/events', {
        key: owner.key,
        raw: JSON.stringify(freshEvent()),
        headers: { 'content-type': type },
      });
      expect(res.status).toBe(415);
      expect(res.body.meta.error_message).toMatch(/application\/json/);
    },
  );

  test('when a body-less POST carries no content type, then it is served as before', async () => {
    const res = await fetch(`${h.api}/v3/extensions/event-webhooks/nope/enable`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.key}` },
    });
    expect(res.status).toBe(404);
  });

  test.each(['null', '5', '"text"', '[]'])(
    'when the body is the JSON value %s, then the answer is 400 "must be an object", not "malformed JSON"',
    async (raw) => {
      const res = await call(h.api, 'POST', '/v3/extensions/event-webhooks', { key: owner.key, raw });
      expect(res.status).toBe(400);
      expect(res.body.meta.errors).toEqual([{ field: '(body)', message: 'must be an object' }]);
    },
  );

  test.each([
    ['rotate-secret', '/v3/extensions/event-webhooks/nope/rotate-secret', { grace: 0 }, 'grace'],
    ['a manual fire', '/v3/incidents/i-1/actions/webhook/nope', { incident: {}, teams: [] }, 'teams'],
  ])('when %s gets an unknown field, then it is refused by name', async (_route, path, body, field) => {
    const res = await call(h.api, 'POST', path, { key: owner.key, body });
    expect(res.status).toBe(400);
    expect(res.body.meta.errors).toEqual([{ field, message: 'is not a known field' }]);
  });

  test('when the payload validate route gets an unknown field, then it is refused by name like on every other route', async () => {
    const res = await call(h.api, 'POST', '/v3/extensions/event-webhooks/payload/validate', {
      key: owner.key,
      body: { language: 'jsonnet', custom_payload: '{ a: 1 }', sample: { x: 1 } },
    });
    expect(res.status).toBe(400);
    expect(res.body.meta.errors).toEqual([{ field: 'sample', message: 'is not a known field' }]);
  });
});
