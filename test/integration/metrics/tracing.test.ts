import http from 'node:http';
import type { AddressInfo } from 'node:net';
import crypto from 'node:crypto';
import { createApiKey } from '../../../src/access/keys';
import { activeTracing, startTracing, stopTracing } from '../../../src/tracing/setup';
import { startReceiver, type Receiver } from '../../support/receiver';
import { createWebhook, deliverEvent, freshEvent, until } from '../../support/deliveries';
import { startHarness, startWorker, testConfig, type Harness, type RunningWorker } from '../../support/harness';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
}

/** An OTLP/HTTP trace receiver (JSON encoding, as the exporter sends by default) on 127.0.0.1. */
async function startOtlpReceiver() {
  const spans: ExportedSpan[] = [];
  const contentTypes: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.push(String(req.headers['content-type']));
      if (req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue;
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              name: s.name,
              service,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    contentTypes,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('tracing with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    const config = testConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: 'hookrelay-test' });
    // Before the client and the worker are made, as the entry points do.
    startTracing(config, 'hookrelay');
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver((req) => ({
      status: receiver.requests.filter((r) => r.path === req.path).length === 1 && req.path === '/flaky' ? 500 : 200,
    }));
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await h?.close();
    await stopTracing();
    await otlp?.close();
  });

  test('when an event is posted, then one trace spans the API request, the workflow start and run, and each attempt', async () => {
    const owner = await createApiKey({ org: `trace-${crypto.randomBytes(4).toString('hex')}`, role: 'owner' });
    await createWebhook(owner.organizationId, { urls: [{ url: `${receiver.url}/ok`, method: 'POST' }] });
    await createWebhook(owner.organizationId, { urls: [{ url: `${receiver.url}/flaky`, method: 'POST' }] });
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, freshEvent());
    expect(result.status).toBe('delivered');
    await activeTracing()!.spanProcessor.forceFlush();

    const api = await until(async () => otlp.spans.find((s) => s.name === 'POST /v3/events'), 20_000, 'the API span');
    const trace = () => otlp.spans.filter((s) => s.traceId === api.traceId);
    // 3 attempts: ok, flaky's 500 (a local first attempt), then flaky's retry (a regular activity).
    await until(
      async () => trace().filter((s) => s.name === 'RunActivity:deliverAttempt').length === 3,
      20_000,
      'the attempt spans',
    );
    const names = trace().map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /v3/events',
        'StartWorkflow:eventDeliveryWorkflow',
        'RunWorkflow:eventDeliveryWorkflow',
        'RunActivity:recordAndPlanEvent',
        'RunActivity:deliverAttempt',
      ]),
    );
    // Every span of the trace descends from the API's span.
    const byId = new Map(trace().map((s) => [s.spanId, s]));
    for (const s of trace()) {
      let at: ExportedSpan | undefined = s;
      const path = [s.name];
      while (at && at !== api) {
        at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined;
        if (at) path.push(at.name);
      }
      expect({ span: s.name, reachesApi: at === api, path }).toMatchObject({ reachesApi: true });
    }
    expect(new Set(trace().map((s) => s.service))).toEqual(new Set(['hookrelay-test']));
    expect(otlp.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);
  });
});
