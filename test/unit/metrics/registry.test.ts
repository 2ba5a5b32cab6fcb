import { loadConfig } from '../../../src/config';
import { temporalTelemetryOptions } from '../../../src/metrics/temporalRuntime';
import { deliveryAttempts, metricsRegistry, statusClassOf } from '../../../src/metrics/registry';

describe('metrics', () => {
  test('when a status is given, then its class is 2xx…5xx, and none without an answer', () => {
    expect([200, 204, 301, 404, 429, 500, 503].map(statusClassOf)).toEqual([
      '2xx',
      '2xx',
      '3xx',
      '4xx',
      '4xx',
      '5xx',
      '5xx',
    ]);
    expect([undefined, null, 0, 99, 600].map(statusClassOf)).toEqual(['none', 'none', 'none', 'none', 'none']);
  });

  test('when counted, then the registry shows the series with its labels', async () => {
    deliveryAttempts.inc({ outcome: 'delivered', status_class: '2xx' });
    expect(await metricsRegistry.metrics()).toMatch(
      /^hookrelay_delivery_attempts_total\{outcome="delivered",status_class="2xx"\} \d+$/m,
    );
  });

  test('when TEMPORAL_METRICS_PORT is unset, then the SDK serves its metrics on HOST:9465; empty turns it off', () => {
    const on = temporalTelemetryOptions(loadConfig({}));
    expect(on?.metrics).toMatchObject({ prometheus: { bindAddress: '127.0.0.1:9465' } });
    expect(temporalTelemetryOptions(loadConfig({ TEMPORAL_METRICS_PORT: '' }))).toBeUndefined();
    expect(temporalTelemetryOptions(loadConfig({ HOST: '::1', TEMPORAL_METRICS_PORT: '9999' }))?.metrics).toMatchObject(
      {
        prometheus: { bindAddress: '[::1]:9999' },
      },
    );
    expect(() => loadConfig({ TEMPORAL_METRICS_PORT: 'abc' })).toThrow(/TEMPORAL_METRICS_PORT/);
    expect(loadConfig({}).WORKER_METRICS_PORT).toBe(9464);
  });
});
