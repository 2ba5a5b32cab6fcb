/**
 * DELIVERY_PROXY_URL against a real forward proxy on 127.0.0.1 (test/support/forwardProxy.ts) that
 * records what passed: deliveries and test sends go through it (absolute form for http, CONNECT
 * for https), DELIVERY_NO_PROXY hosts do not, and the SSRF rules still judge the target.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { startForwardProxy, type ForwardProxy } from '../../support/forwardProxy';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent, logsOf } from '../../support/deliveries';
import { call, startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

const PROXY_PASSWORD = 'pr0xy-s3cret';

/** An owner in an organization of its own, so an event reaches only the webhooks of its test. */
const freshOwner = () => createApiKey({ org: `acme-${crypto.randomUUID()}`, role: 'owner' });

/** An https server on 127.0.0.1 with a self-signed certificate (openssl CLI), counting TLS handshakes begun. */
function startTlsServer(): Promise<{ url: string; hellos: () => number; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-egress-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
    ]),
    { cwd: dir, stdio: 'pipe' },
  );
  let hellos = 0;
  const server = https.createServer(
    { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
    (_req, res) => res.end('ok'),
  );
  server.on('tlsClientError', () => hellos++);
  server.on('secureConnection', () => hellos++);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        hellos: () => hellos,
        close: async () => {
          server.closeAllConnections();
          await new Promise((r) => server.close(r));
          fs.rmSync(dir, { recursive: true, force: true });
        },
      }),
    ),
  );
}

describe('deliveries through DELIVERY_PROXY_URL (private targets allowed, as in local setups)', () => {
  let proxy: ForwardProxy;
  let viaProxy: Receiver;
  let direct: Receiver;
  let tlsTarget: Awaited<ReturnType<typeof startTlsServer>>;
  let h: Harness;
  let worker: RunningWorker;
  let owner: CreatedKey;

  beforeAll(async () => {
    proxy = await startForwardProxy({ user: 'relay', password: PROXY_PASSWORD });
    viaProxy = await startReceiver();
    direct = await startReceiver();
    tlsTarget = await startTlsServer();
    const config = testConfig({
      ALLOW_PRIVATE_TARGETS: 'true',
      DELIVERY_PROXY_URL: proxy.url,
      // Only the `direct` receiver's port is exempt: same host, so the port rule is what decides.
      DELIVERY_NO_PROXY: `example.internal, 127.0.0.1:${new URL(direct.url).port}`,
    });
    h = await startHarness(config);
    worker = await startWorker(config);
  });
  beforeEach(async () => {
    owner = await freshOwner();
  });
  afterAll(async () => {
    await worker?.stop();
    await h?.close();
    await viaProxy?.close();
    await direct?.close();
    await tlsTarget?.close();
    await proxy?.close();
  });

  test('when an event is delivered, then the proxied URL goes through the proxy with its credentials and the NO_PROXY one does not', async () => {
    const wh = await createWebhook(owner.organizationId, {
      urls: [
        { url: `${viaProxy.url}/hook?token=abc`, method: 'POST' },
        { url: `${direct.url}/direct`, method: 'POST' },
      ],
    });
    const before = proxy.passed.length;
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('delivered');

    const passed = proxy.passed.slice(before);
    expect(passed).toEqual([
      {
        kind: 'forward',
        target: `${viaProxy.url}/hook?token=abc`,
        proxyAuthorization: `Basic ${Buffer.from(`relay:${PROXY_PASSWORD}`).toString('base64')}`,
      },
    ]);
    expect(viaProxy.requests).toHaveLength(1);
    expect(viaProxy.requests[0].path).toBe('/hook?token=abc');
    expect(viaProxy.requests[0].headers['webhook-id']).toBeTruthy();
    // The proxy's credentials are for the proxy: never passed on to the receiver.
    expect(viaProxy.requests[0].headers['proxy-authorization']).toBeUndefined();
    expect(direct.requests).toHaveLength(1);

    const logs = await logsOf(wh.id);
    expect(logs.map((l) => l.outcome)).toEqual(['delivered', 'delivered']);
    expect(JSON.stringify(logs)).not.toContain(PROXY_PASSWORD);
  });

  test('when the target is https, then the proxy is asked for a CONNECT tunnel and TLS runs through it to the target', async () => {
    const wh = await createWebhook(owner.organizationId, {
      urls: [{ url: `${tlsTarget.url}/secure`, method: 'POST' }],
      max_retry: 0,
    });
    const before = proxy.passed.length;
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    // The target's certificate is self-signed: the handshake reached it through the tunnel and
    // the client refused it, which only a TLS exchange with the target itself can produce.
    expect(result.status).toBe('failed');
    expect(proxy.passed.slice(before)).toEqual([
      { kind: 'connect', target: new URL(tlsTarget.url).host, proxyAuthorization: expect.stringMatching(/^Basic /) },
    ]);
    expect(tlsTarget.hellos()).toBeGreaterThanOrEqual(1);
    const [row] = await logsOf(wh.id);
    expect(row.error).toMatch(/self[- ]signed certificate/i);
    expect(row.error).not.toContain(PROXY_PASSWORD);
  });

  test('when a webhook is tested, then the test send goes through the proxy too', async () => {
    const before = proxy.passed.length;
    const res = await call(h.api, 'POST', '/v3/extensions/event-webhooks/test', {
      key: owner.key,
      body: {
        name: 'proxied test',
        trigger_type: 'automatic',
        triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
        urls: [{ url: `${viaProxy.url}/tested`, method: 'POST' }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.results).toMatchObject([{ outcome: 'delivered', status: 200 }]);
    expect(proxy.passed.slice(before)).toMatchObject([{ kind: 'forward', target: `${viaProxy.url}/tested` }]);
    expect(viaProxy.requests.at(-1)?.path).toBe('/tested');
  });

  test('when the proxy is down, then the attempt fails with an error that does not show its credentials', async () => {
    const wh = await createWebhook(owner.organizationId, {
      urls: [{ url: `${viaProxy.url}/down`, method: 'POST' }],
      max_retry: 0,
    });
    await proxy.close();
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('failed');
    const [row] = await logsOf(wh.id);
    expect(row.error).toContain('ECONNREFUSED');
    expect(JSON.stringify(row)).not.toContain(PROXY_PASSWORD);
    expect(viaProxy.requests.some((r) => r.path === '/down')).toBe(false);
  });
});

describe('deliveries through DELIVERY_PROXY_URL with the SSRF rules on', () => {
  let proxy: ForwardProxy;
  let receiver: Receiver;
  let h: Harness;
  let worker: RunningWorker;
  let owner: CreatedKey;

  beforeAll(async () => {
    proxy = await startForwardProxy();
    receiver = await startReceiver();
    // The proxy itself is on loopback (trusted configuration); targets are judged as without it.
    const config = testConfig({ ALLOW_PRIVATE_TARGETS: 'false', DELIVERY_PROXY_URL: proxy.url });
    h = await startHarness(config);
    worker = await startWorker(config);
  });
  beforeEach(async () => {
    owner = await freshOwner();
  });
  afterAll(async () => {
    await worker?.stop();
    await h?.close();
    await receiver?.close();
    await proxy?.close();
  });

  test('when a target is loopback (by name or literal), then it is refused before the proxy is asked', async () => {
    const port = new URL(receiver.url).port;
    // Stored directly: saving refuses these, but a saved name can resolve inward later.
    const wh = await createWebhook(owner.organizationId, {
      urls: [
        { url: `http://localhost:${port}/by-name`, method: 'POST' },
        { url: `http://127.0.0.1:${port}/literal`, method: 'POST' },
      ],
      max_retry: 0,
    });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('failed');
    const errors = (await logsOf(wh.id)).map((l) => l.error).sort();
    expect(errors).toEqual(['127.0.0.1 is a non-public address', 'localhost resolves to a non-public address']);
    expect(proxy.passed).toHaveLength(0);
    expect(receiver.requests).toHaveLength(0);
  });

  test('when a target is public, then it goes through the proxy on loopback, for deliveries and test sends', async () => {
    // A public literal address: the test proxy answers it itself, nothing leaves the machine.
    const wh = await createWebhook(owner.organizationId, {
      urls: [{ url: 'http://93.184.216.34/public-hook', method: 'POST' }],
      max_retry: 0,
    });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('delivered');
    expect(proxy.passed).toEqual([{ kind: 'forward', target: 'http://93.184.216.34/public-hook' }]);
    const [row] = await logsOf(wh.id);
    expect(row.responseBody).toBe('answered by the test proxy');

    const tested = await call(h.api, 'POST', `/v3/extensions/event-webhooks/${wh.id}/test`, { key: owner.key });
    expect(tested.status).toBe(200);
    expect(tested.body.data.results).toMatchObject([{ outcome: 'delivered', status: 200 }]);
    expect(proxy.passed).toHaveLength(2);
  });

  test('when the proxy refuses the tunnel, then the attempt fails naming the proxy, not the receiver, as the refuser', async () => {
    const wh = await createWebhook(owner.organizationId, {
      urls: [{ url: 'https://93.184.216.34/tunnel', method: 'POST' }],
      max_retry: 0,
    });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('failed');
    expect(proxy.passed.at(-1)).toEqual({ kind: 'connect', target: '93.184.216.34:443' });
    const [row] = await logsOf(wh.id);
    expect(row).toMatchObject({ status: null, error: 'egress proxy refused the tunnel: 403' });
  });
});
