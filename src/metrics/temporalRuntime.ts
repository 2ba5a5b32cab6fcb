import type { TelemetryOptions } from '@temporalio/worker';
import type { Config } from '../config';

/**
 * The Temporal SDK's own worker metrics (task slots, poll and schedule-to-start latencies, sticky
 * cache…) served by its Rust core in Prometheus format on HOST:TEMPORAL_METRICS_PORT, for the
 * Runtime that the worker installs once per process. Seconds and `_total`, as prom-client names ours.
 */
export function temporalTelemetryOptions(
  config: Pick<Config, 'HOST' | 'TEMPORAL_METRICS_PORT'>,
): TelemetryOptions | undefined {
  if (!config.TEMPORAL_METRICS_PORT) return undefined;
  const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  return {
    metrics: {
      prometheus: {
        bindAddress: `${host}:${config.TEMPORAL_METRICS_PORT}`,
        countersTotalSuffix: true,
        useSecondsForDurations: true,
      },
    },
  };
}
