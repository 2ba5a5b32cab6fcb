import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Config } from '../config';
import type { EventLag } from '../events/lag';
import type { Logger } from '../logger';
import { sharedTemplateEngine } from '../templates/engine';
import { temporalTelemetryOptions } from '../metrics/temporalRuntime';
import { workerOptions } from './options';

/** The SDK's logger, with webpack's module-by-module build report at DEBUG ("Workflow bundle created" stays). */
class QuietBundleLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    super.log(level === 'INFO' && /\nwebpack \S+ compiled/.test(message) ? 'DEBUG' : level, message, meta);
  }
}

/**
 * Once per process, before any connection: the SDK's runtime with our log level and its metrics
 * exporter. Its Tokio runtime takes its worker threads from TOKIO_WORKER_THREADS when built, else
 * one per core; config's default is one: the core's share of the process is small (about 13% of a
 * core in a burst of 125 events/s on 2 cores), and two threads hand work to each other. One cut the
 * machine's context switches by a sixth; six interleaved pairs of 5,000-event bursts on 2 cores:
 * 92.5 → 100.7 deliveries/s, 19.1 → 17.6 ms of CPU per event (means).
 */
export function installTemporalRuntime(config: Config, logger?: Logger): void {
  process.env.TOKIO_WORKER_THREADS = String(config.TOKIO_WORKER_THREADS);
  const telemetryOptions = temporalTelemetryOptions(config);
  const options = { logger: new QuietBundleLogger(config.LOG_LEVEL.toUpperCase() as LogLevel) };
  try {
    Runtime.install({ ...options, ...(telemetryOptions && { telemetryOptions }) });
  } catch (err) {
    if (!telemetryOptions) throw err;
    // Its port taken (a second worker on the machine): deliveries matter more than the SDK's metrics.
    logger?.error('Temporal SDK metrics off: cannot serve them', {
      port: config.TEMPORAL_METRICS_PORT,
      error: err instanceof Error ? err.message : String(err),
    });
    Runtime.install(options);
  }
}

/**
 * The delivery worker on `connection`: every workflow and activity, with the store already
 * connected. Shared by the worker-only entry point and the API-and-worker one.
 */
export async function createDeliveryWorker(deps: {
  config: Config;
  logger: Logger;
  connection: NativeConnection;
  /** See ActivityDeps.eventLag. */
  eventLag?: EventLag;
}): Promise<Worker> {
  const { config, logger } = deps;
  // Build (first run only) and load the Jsonnet evaluator now, not on the first custom payload.
  await sharedTemplateEngine(config)
    .ready()
    .catch((err: unknown) => logger.warn('custom payloads unavailable until the Jsonnet evaluator builds', { err }));
  return Worker.create({
    ...workerOptions(config),
    connection: deps.connection,
    activities: createActivities({ config, logger, eventLag: deps.eventLag }),
  });
}
