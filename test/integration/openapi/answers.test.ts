import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { startReceiver, type Receiver } from '../../support/receiver';
import { deliverEvent, freshEvent } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';
import { answerChecker, openApiErrors } from '../../support/openapi';

const BASE = '/v3/extensions/event-webhooks';

describe('GET /openapi.json and real answers against it', () => {
  const config = testConfig();
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  let plain: CreatedKey;
  let doc: any;
  let check: ReturnType<typeof answerChecker>;

  beforeAll(async () => {
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver((req) =>
      req.path === '/down' ? { status: 500, body: 'no' } : { status: 200, body: '{}' },
    );
    owner = await createApiKey({ org: 'acme', role: 'owner' });
    plain = await createApiKey({ org: 'acme', role: 'user', teams: ['sre'] });
    const res = await call(h.api, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
    check = answerChecker(doc);
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
  });

  /** Calls the API and expects the answer to match the document for `template` (the documented path). */
  async function conforming(
    method: string,
    template: string,
    path: string,
    opts: Parameters<typeof call>[3] = {},
    expectStatus?: number,
  ) {
    const res = await call(h.api, method, path, opts);
    if (expectStatus !== undefined)
      expect(`${res.status} ${JSON.stringify(res.body)}`).toMatch(new RegExp(`^${expectStatus} `));
    expect(check(method.toLowerCase(), template, res.status, res.body)).toBeNull();
    if (res.body !== undefined) expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    return res;
  }

  test('when fetched without a key, then it is a valid OpenAPI 3.1 document of the /v3 API', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(openApiErrors(doc)).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v3/events', `${BASE}/{id}/logs`, '/openapi.json']),
    );
  });

  test('when a check is given an answer the document does not allow, then it says why (the checks can fail)', () => {
    expect(check('get', '/v3/me', 200, { data: { role: 'admin' } })).toMatch(/role|required/);
    expect(check('get', '/v3/me', 418, {})).toMatch(/does not document status 418/);
  });

  test('when webhooks are created, read, listed, tested, fired and delivered, then every answer matches the document', async () => {
    const created = await conforming(
      'POST',
      BASE,
      BASE,
      {
        key: owner.key,
        body: {
          name: 'answers',
          trigger_type: 'automatic',
          triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
          urls: [{ url: `${receiver.url}/ok` }, { url: `${receiver.url}/down`, method: 'PUT' }],
          header: { 'X-Token': 'secret-value' },
          max_retry: 0,
          mail_ids: ['oncall@example.com'],
        },
      },
      201,
    );
    const id = created.body.data.id;
    const manual = await conforming(
      'POST',
      BASE,
      BASE,
      {
        key: owner.key,
        body: {
          name: 'manual',
          trigger_type: 'manual',
          is_all_teams_configured: true,
          urls: [{ url: `${receiver.url}/ok` }],
        },
      },
      201,
    );

    await conforming('GET', `${BASE}/{id}`, `${BASE}/${id}`, { key: owner.key }, 200);
    await conforming('GET', BASE, `${BASE}?page-limit=5`, { key: owner.key }, 200);
    // A plain user's list items are the fireable view.
    const fireable = await conforming('GET', BASE, BASE, { key: plain.key }, 200);
    expect(fireable.body.data.result.length).toBe(1);
    await conforming('POST', `${BASE}/{id}/disable`, `${BASE}/${id}/disable`, { key: owner.key }, 200);
    await conforming('POST', `${BASE}/{id}/enable`, `${BASE}/${id}/enable`, { key: owner.key }, 200);
    await conforming(
      'POST',
      `${BASE}/{id}/rotate-secret`,
      `${BASE}/${id}/rotate-secret`,
      { key: owner.key, body: { grace_ms: 0 } },
      200,
    );
    await conforming('POST', `${BASE}/{id}/test`, `${BASE}/${id}/test`, { key: owner.key }, 200);
    await conforming(
      'POST',
      `${BASE}/test`,
      `${BASE}/test`,
      {
        key: owner.key,
        body: {
          name: 't',
          trigger_type: 'manual',
          is_all_teams_configured: true,
          urls: [{ url: `${receiver.url}/ok` }],
        },
      },
      200,
    );

    const envelope = freshEvent('incident.triggered');
    await deliverEvent(h.api, owner.key, h.temporal, envelope);
    // The repeat is answered (202, duplicate) through the same documented shape.
    await conforming('POST', '/v3/events', '/v3/events', { key: owner.key, body: envelope }, 202);
    const logs = await conforming(
      'GET',
      `${BASE}/{id}/logs`,
      `${BASE}/${id}/logs?outcome=failed&page-limit=10`,
      { key: owner.key },
      200,
    );
    expect(logs.body.data.result.length).toBeGreaterThan(0);
    await conforming('GET', `${BASE}/{id}/logs`, `${BASE}/${id}/logs`, { key: owner.key }, 200);
    await conforming('GET', `${BASE}/{id}/mails`, `${BASE}/${id}/mails`, { key: owner.key }, 200);

    const incidentId = String(envelope.data.resource_data.id);
    const fire = `/v3/incidents/{incidentID}/actions/webhook/{webhookID}`;
    await conforming(
      'POST',
      fire,
      `/v3/incidents/${incidentId}/actions/webhook/${manual.body.data.id}`,
      { key: owner.key },
      200,
    );
    await conforming(
      'POST',
      fire,
      `/v3/incidents/${incidentId}/actions/webhook/${manual.body.data.id}`,
      { key: plain.key },
      200,
    );
    await conforming('POST', fire, `/v3/incidents/${incidentId}/actions/webhook/${id}`, { key: owner.key }, 400);

    await conforming(
      'PUT',
      `${BASE}/{id}`,
      `${BASE}/${id}`,
      { key: owner.key, body: { ...created.body.data, name: 'renamed' } },
      200,
    );
    await conforming('DELETE', `${BASE}/{id}`, `${BASE}/${id}`, { key: owner.key }, 204);
  });

  test('when the document’s example bodies are sent, then the API accepts them', async () => {
    const ops = doc.paths;
    const example = (path: string, method: string) => ops[path][method].requestBody.content['application/json'].example;
    const created = await conforming('POST', BASE, BASE, { key: owner.key, body: example(BASE, 'post') }, 201);
    const id = created.body.data.id;
    await conforming(
      'PUT',
      `${BASE}/{id}`,
      `${BASE}/${id}`,
      { key: owner.key, body: example(`${BASE}/{id}`, 'put') },
      200,
    );
    const rotate = `${BASE}/{id}/rotate-secret`;
    await conforming(
      'POST',
      rotate,
      `${BASE}/${id}/rotate-secret`,
      { key: owner.key, body: example(rotate, 'post') },
      200,
    );
    const validate = `${BASE}/payload/validate`;
    const rendered = await conforming(
      'POST',
      validate,
      validate,
      { key: owner.key, body: example(validate, 'post') },
      200,
    );
    expect(rendered.body.data.valid).toBe(true);
    await conforming('POST', '/v3/events', '/v3/events', { key: owner.key, body: example('/v3/events', 'post') }, 202);
  });

  test('when the read-only routes are called, then their answers match the document', async () => {
    await conforming('GET', '/healthz', '/healthz', {}, 200);
    await conforming('GET', '/readyz', '/readyz', {}, 200);
    await conforming('GET', '/v3/me', '/v3/me', { key: plain.key }, 200);
    await conforming('GET', '/v3/teams', '/v3/teams', { key: owner.key }, 200);
    await conforming('GET', `${BASE}/events`, `${BASE}/events?version=v1`, { key: plain.key }, 200);
    const templates = await conforming('GET', `${BASE}/templates`, `${BASE}/templates`, { key: plain.key }, 200);
    const slug = templates.body.data[0].slug;
    await conforming('GET', `${BASE}/templates/{slug}`, `${BASE}/templates/${slug}`, { key: plain.key }, 200);
    const validate = `${BASE}/payload/validate`;
    await conforming(
      'POST',
      validate,
      validate,
      { key: owner.key, body: { language: 'jsonnet', custom_payload: '{ a: 1 }' } },
      200,
    );
    await conforming(
      'POST',
      validate,
      validate,
      { key: owner.key, body: { language: 'jsonnet', custom_payload: '{ a: }' } },
      200,
    );
  });

  test('when requests are refused, then each error answer is documented with the error shape', async () => {
    await conforming('GET', '/v3/me', '/v3/me', {}, 401);
    await conforming('GET', '/v3/me', '/v3/me', { key: 'hr_not-a-key' }, 401);
    await conforming('GET', `${BASE}/{id}`, `${BASE}/nope`, { key: plain.key }, 403);
    await conforming('GET', `${BASE}/{id}`, `${BASE}/nope`, { key: owner.key }, 404);
    await conforming('GET', `${BASE}/templates/{slug}`, `${BASE}/templates/nope`, { key: owner.key }, 404);
    await conforming('GET', `${BASE}/{id}/logs`, `${BASE}/nope/logs`, { key: owner.key }, 404);
    await conforming('POST', BASE, BASE, { key: owner.key, body: { name: 'x' } }, 400);
    await conforming('POST', BASE, BASE, { key: owner.key, raw: '{', headers: {} }, 400);
    await conforming(
      'POST',
      BASE,
      BASE,
      { key: owner.key, raw: 'name=x', headers: { 'content-type': 'text/plain' } },
      415,
    );
    await conforming(
      'POST',
      BASE,
      BASE,
      { key: owner.key, body: { name: 'x', trigger_type: 'automatic', urls: [{ url: 'not a url' }] } },
      422,
    );
    await conforming('POST', '/v3/events', '/v3/events', { key: owner.key, body: { version: 'v1' } }, 400);
    await conforming('GET', `${BASE}/events`, `${BASE}/events?version=v9`, { key: owner.key }, 400);
    await conforming(
      'POST',
      `${BASE}/payload/validate`,
      `${BASE}/payload/validate`,
      { key: owner.key, body: { language: 'lua', custom_payload: 'x' } },
      422,
    );
  });
});
