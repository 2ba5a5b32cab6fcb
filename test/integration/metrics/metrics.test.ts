import crypto from 'node:crypto';
import { createApiKey, type CreatedKey } from '../../../src/access/keys';
import { serveWorkerMetrics } from '../../../src/metrics/http';
import { createLogger } from '../../../src/logger';
import { freePort } from '../../../src/stack';
import { startReceiver, type Receiver } from '../../support/receiver';
import { startSmtp, type SmtpCatcher } from '../../support/smtp';
import { createWebhook, deliverEvent, freshEvent, postEvent, until } from '../../support/deliveries';
import {
  installTestRuntime,
  startHarness,
  startWorker,
  testConfig,
  type Harness,
  type RunningWorker,
} from '../../support/harness';
import { temporalTelemetryOptions } from '../../../src/metrics/temporalRuntime';
import { sample, scrape } from '../../support/prometheus';

// API and worker in one process, as `npm start` runs them: the API's /metrics shows both.
describe('GET /metrics', () => {
  const token = `tok-${crypto.randomBytes(8).toString('hex')}`;
  // Distinctive parts of the receivers' URLs and of the webhooks: none may appear in a scrape.
  const pathSecret = `p4th${crypto.randomBytes(6).toString('hex')}`;
  const querySecret = `q5ecret${crypto.randomBytes(6).toString('hex')}`;
  const headerSecret = `h3ader${crypto.randomBytes(6).toString('hex')}`;
  let smtp: SmtpCatcher;
  let h: Harness;
  let worker: RunningWorker;
  let receiver: Receiver;
  let owner: CreatedKey;
  /** Answers per path: a function of the how-manieth request to that path it is. */
  const handlers = new Map<string, (n: number) => { status: number } | 'hold'>();
  let temporalMetricsPort: number;

  beforeAll(async () => {
    smtp = await startSmtp();
    const config = testConfig({ SMTP_URL: smtp.url, METRICS_TOKEN: token, RETRY_INITIAL_INTERVAL_MS: '100' });
    // The SDK's Runtime as the worker entry points install it (once per process), on a free port.
    temporalMetricsPort = await freePort();
    installTestRuntime(
      temporalTelemetryOptions({ HOST: '127.0.0.1', TEMPORAL_METRICS_PORT: String(temporalMetricsPort) }),
    );
    h = await startHarness(config);
    worker = await startWorker(config);
    receiver = await startReceiver((req) => {
      const path = req.path.split('?')[0].replace(`/${pathSecret}`, '');
      const n = receiver.requests.filter((r) => r.path === req.path).length - 1;
      return handlers.get(path)?.(n) ?? { status: 200 };
    });
    owner = await createApiKey({ org: `metrics-${crypto.randomBytes(4).toString('hex')}`, role: 'owner' });
  });
  afterAll(async () => {
    receiver?.releaseHeld();
    await worker?.stop();
    await receiver?.close();
    await smtp?.close();
    await h?.close();
  });

  const metrics = async () => {
    const s = await scrape(`${h.api}/metrics`, token);
    expect(s.status).toBe(200);
    return s.text;
  };

  async function hook(path: string, fields: Record<string, unknown> = {}) {
    return createWebhook(owner.organizationId, {
      urls: [{ url: `${receiver.url}/${pathSecret}${path}?token=${querySecret}`, method: 'POST' }],
      headers: [{ name: 'X-Api-Key', value: headerSecret }],
      ...fields,
    });
  }

  test('when METRICS_TOKEN is set and a scrape sends no or a wrong token, then 401; with it, 200 in Prometheus text format', async () => {
    expect((await scrape(`${h.api}/metrics`)).status).toBe(401);
    expect((await scrape(`${h.api}/metrics`, `${token}x`)).status).toBe(401);
    const ok = await scrape(`${h.api}/metrics`, token);
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.text).toMatch(/^# HELP hookrelay_events_accepted_total /m);
    expect(ok.text).toMatch(/^hookrelay_process_cpu_seconds_total /m);
  });

  test('when events are delivered, retried and failed, then the counters and histograms move by what happened, and no URL, secret or id is a label', async () => {
    const before = await metrics();
    handlers.set('/flaky', (n) => ({ status: n === 0 ? 503 : 200 }));
    handlers.set('/down', () => ({ status: 500 }));
    const ok = await hook('/ok');
    const flaky = await hook('/flaky');
    const down = await hook('/down', { max_retry: 1, mail_ids: ['ops@acme.test'] });
    const event = freshEvent();
    const { result } = await deliverEvent(h.api, owner.key, h.temporal, event);
    expect(result.status).toBe('partially_failed');
    expect((await postEvent(h.api, owner.key, event)).body.data.duplicate).toBe(true);
    await until(async () => smtp.mails.length === 1, 20_000, 'the failure mail');

    const after = await until(async () => {
      const text = await metrics();
      return sample(text, 'hookrelay_failure_mails_total', { result: 'sent' }) >= 1 && text;
    });
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    const type = { event_type: 'incident.triggered' };
    expect(delta('hookrelay_events_accepted_total', { ...type, duplicate: 'no' })).toBe(1);
    expect(delta('hookrelay_events_accepted_total', { ...type, duplicate: 'yes' })).toBe(1);
    // ok: 1 delivered; flaky: 503 then 200; down: 500, 500 (max_retry 1).
    expect(delta('hookrelay_delivery_attempts_total', { outcome: 'delivered', status_class: '2xx' })).toBe(2);
    expect(delta('hookrelay_delivery_attempts_total', { outcome: 'retrying', status_class: '5xx' })).toBe(2);
    expect(delta('hookrelay_delivery_attempts_total', { outcome: 'failed', status_class: '5xx' })).toBe(1);
    expect(delta('hookrelay_delivery_attempt_duration_seconds_count')).toBe(5);
    expect(delta('hookrelay_delivery_attempt_duration_seconds_count', { status_class: '5xx' })).toBe(3);
    // One first attempt per (webhook, URL), measured from the API's accept.
    expect(delta('hookrelay_accept_to_first_attempt_seconds_count')).toBe(3);
    expect(delta('hookrelay_accept_to_first_attempt_seconds_sum')).toBeLessThan(30);
    expect(delta('hookrelay_failure_mails_total', { result: 'sent' })).toBe(1);
    expect(sample(after, 'hookrelay_deliveries_retrying')).toBe(0);

    for (const secret of [
      pathSecret,
      querySecret,
      headerSecret,
      receiver.url.replace('http://', ''),
      owner.organizationId,
      owner.key,
      event.event.id,
      ok.id,
      flaky.id,
      down.id,
      ok.secret.slice(6, 20),
      token,
    ]) {
      expect(after).not.toContain(secret);
    }
  });

  test('when a delivery waits on its retry, then hookrelay_deliveries_retrying counts it until the retry ends', async () => {
    handlers.set('/slow-retry', (n) => (n === 0 ? { status: 500 } : 'hold'));
    // An organization of its own: the earlier test's webhooks must not take this event too.
    owner = await createApiKey({ org: `metrics-${crypto.randomBytes(4).toString('hex')}`, role: 'owner' });
    await hook('/slow-retry');
    const base = sample(await metrics(), 'hookrelay_deliveries_retrying');
    const res = await postEvent(h.api, owner.key, freshEvent());
    expect(res.status).toBe(202);
    // The retry is held open by the receiver: the delivery is retrying.
    await until(async () => receiver.requests.filter((r) => r.path.includes('/slow-retry')).length === 2);
    expect(sample(await metrics(), 'hookrelay_deliveries_retrying')).toBe(base + 1);
    receiver.releaseHeld(200);
    expect((await h.temporal.workflow.getHandle(res.body.data.workflow_id).result()).status).toBe('delivered');
    expect(sample(await metrics(), 'hookrelay_deliveries_retrying')).toBe(base);
  });

  test('when a worker-only process serves its metrics on WORKER_METRICS_PORT, then it answers /metrics with the token and 401 without', async () => {
    const port = await freePort();
    const stop = serveWorkerMetrics(
      { HOST: '127.0.0.1', WORKER_METRICS_PORT: port, METRICS_TOKEN: token },
      createLogger('worker', 'error'),
    );
    try {
      const url = `http://127.0.0.1:${port}/metrics`;
      await until(async () => (await scrape(url, token).catch(() => ({ status: 0 }))).status === 200);
      expect((await scrape(url)).status).toBe(401);
      const s = await scrape(url, token);
      expect(sample(s.text, 'hookrelay_delivery_attempts_total')).toBeGreaterThan(0);
      expect((await scrape(`http://127.0.0.1:${port}/other`, token)).status).toBe(404);
    } finally {
      await stop();
    }
  });

  test("when the worker has run workflows, then the Temporal SDK's own metrics are served on TEMPORAL_METRICS_PORT", async () => {
    const text = await until(async () => {
      const s = await scrape(`http://127.0.0.1:${temporalMetricsPort}/metrics`).catch(() => undefined);
      return s?.status === 200 && s.text.includes('temporal_workflow_completed_total') && s.text;
    });
    expect(sample(text, 'temporal_workflow_completed_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
    // Durations in seconds (useSecondsForDurations), as ours.
    expect(text).toMatch(/^temporal_local_activity_execution_latency_bucket\{.*le="0\.05"\}/m);
  });
});
