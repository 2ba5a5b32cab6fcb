import { sendHttp, retryAfterMs, type HttpAttempt } from '../../../src/delivery/http';
import { classify, prepareRequest } from '../../../src/delivery/request';
import { activeSecrets, deliveryIdOf, sign } from '../../../src/delivery/signing';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { startReceiver, type Receiver } from '../../support/receiver';
import { newSecret } from '../../support/deliveries';

describe('sendHttp: one attempt', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver((req) => {
      if (req.path === '/redirect') return { status: 302, headers: { location: '/elsewhere' } };
      if (req.path === '/big') return { status: 200, body: 'y'.repeat(100_000) };
      return { status: 200, body: 'fine' };
    });
  });
  afterAll(async () => receiver.close());

  const attempt = (url: string, over: Partial<HttpAttempt> = {}): HttpAttempt => ({
    url,
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
    timeoutMs: 2000,
    responseLimitBytes: 4096,
    allowPrivateTargets: true,
    ...over,
  });

  test('when private targets are not allowed, then a name resolving to loopback is refused at connect time and nothing is sent', async () => {
    const before = receiver.requests.length;
    const port = new URL(receiver.url).port;
    const byName = await sendHttp(attempt(`http://localhost:${port}/x`, { allowPrivateTargets: false }));
    expect(byName.status).toBeUndefined();
    // What the name resolves to inside this network is not echoed to the tenant.
    expect(byName.error).toBe('localhost resolves to a non-public address');
    expect(byName.blocked).toBe(true);
    const byAddress = await sendHttp(attempt(`http://127.0.0.1:${port}/x`, { allowPrivateTargets: false }));
    expect(byAddress).toMatchObject({ error: '127.0.0.1 is a non-public address', blocked: true });
    const v6 = await sendHttp(attempt(`http://[::ffff:127.0.0.1]:${port}/x`, { allowPrivateTargets: false }));
    expect(v6).toMatchObject({ error: expect.stringMatching(/non-public address/), blocked: true });
    // Final: retrying a refused target cannot help.
    for (const refused of [byName, byAddress, v6]) {
      expect(classify(refused, 1000)).toEqual({ kind: 'failed', error: refused.error, final: true });
    }
    expect(receiver.requests.length).toBe(before);
  });

  test('when the answer is a redirect, then it is not followed and counts as a failure', async () => {
    const result = await sendHttp(attempt(`${receiver.url}/redirect`));
    expect(result.status).toBe(302);
    expect(classify(result, 1000)).toEqual({ kind: 'failed', status: 302, error: 'HTTP 302' });
    expect(receiver.requests.some((r) => r.path === '/elsewhere')).toBe(false);
  });

  test('when the answer is large, then only the first bytes are read', async () => {
    const result = await sendHttp(attempt(`${receiver.url}/big`, { responseLimitBytes: 1000 }));
    expect(result.status).toBe(200);
    expect(result.responseBody).toHaveLength(1000);
  });

  test('when nothing listens, then the error is a connection error', async () => {
    const result = await sendHttp(attempt('http://127.0.0.1:1/x'));
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/ECONNREFUSED/);
    expect(classify(result, 1000)).toMatchObject({ kind: 'failed' });
  });

  test('when Node refuses to build the request (a control character in a header value), then it is a failed attempt, not a throw', async () => {
    const before = receiver.requests.length;
    const result = await sendHttp(attempt(`${receiver.url}/x`, { headers: { 'X-Bad': 'a\nb' } }));
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/^request not sent: ERR_INVALID_CHAR: /);
    expect(result.error).not.toContain('a\nb');
    expect(classify(result, 1000)).toMatchObject({ kind: 'failed' });
    expect(receiver.requests.length).toBe(before);
  });

  test('when Retry-After is seconds or a date, then it becomes a delay, capped, on 429 and 503 only', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(retryAfterMs('soon')).toBeUndefined();
    const base = { responseBody: '', durationMs: 1 };
    expect(classify({ ...base, status: 429, retryAfterHeader: '120' }, 60_000)).toMatchObject({ retryAfterMs: 60_000 });
    expect(classify({ ...base, status: 503, retryAfterHeader: '2' }, 60_000)).toMatchObject({ retryAfterMs: 2000 });
    expect(classify({ ...base, status: 500, retryAfterHeader: '2' }, 60_000)).not.toHaveProperty('retryAfterMs');
    expect(classify({ ...base, status: 204 }, 60_000)).toEqual({ kind: 'delivered', status: 204 });
  });
});

describe('Standard Webhooks headers', () => {
  test('when prepared, then the signature verifies with the standardwebhooks package and the logged copy is masked', () => {
    const secret = newSecret();
    const id = deliveryIdOf('org', 'evt', 'wh');
    const body = '{"hello":"world"}';
    const prepared = prepareRequest({
      deliveryId: id,
      body,
      extraHeaders: [
        { name: 'Authorization', value: 'Bearer t0ken' },
        { name: 'content-type', value: 'text/plain' },
        { name: 'webhook-id', value: 'forged' },
        { name: 'Connection', value: 'close' },
        { name: 'webhook-extra', value: 'x' },
      ],
      secrets: [secret],
      now: new Date(),
    });
    expect(prepared.headers['Content-Type']).toBe('application/json');
    expect(prepared.headers['content-type']).toBeUndefined();
    expect(prepared.headers['webhook-id']).toBe(id);
    expect(prepared.headers.Connection).toBeUndefined();
    expect(prepared.headers['webhook-extra']).toBeUndefined();
    expect(() => new StandardWebhook(secret).verify(body, prepared.headers)).not.toThrow();
    const logged = Object.fromEntries(prepared.loggedHeaders.map((h) => [h.name, h.value]));
    expect(logged.Authorization).toBe('********');
    expect(logged['webhook-signature']).toBe('v1,********');
  });

  test('when ids are derived, then they are stable per (org, event, webhook) and differ otherwise', () => {
    expect(deliveryIdOf('o', 'e', 'w')).toBe(deliveryIdOf('o', 'e', 'w'));
    expect(deliveryIdOf('o', 'e', 'w')).not.toBe(deliveryIdOf('o', 'e', 'w2'));
    expect(deliveryIdOf('o', 'e', 'w')).not.toBe(deliveryIdOf('o2', 'e', 'w'));
  });

  test('when secrets expire, then only unexpired ones sign', () => {
    const now = new Date();
    const later = new Date(now.getTime() + 1000);
    const earlier = new Date(now.getTime() - 1000);
    expect(
      activeSecrets(
        [
          { value: 'a', expiresAt: null },
          { value: 'b', expiresAt: later },
          { value: 'c', expiresAt: earlier },
        ],
        now,
      ),
    ).toEqual(['a', 'b']);
    expect(sign(newSecret(), 'id', 1, 'x')).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });
});
