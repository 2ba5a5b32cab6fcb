import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config';
import { connectDatabase, disconnectDatabase } from '../db/connect';
import { createLogger } from '../logger';
import { temporalConnectionOptions } from '../temporal/client';
import { exitWhenParentDies } from '../process';
import { serveWorkerMetrics } from '../metrics/http';
import { startTracing, stopTracing } from '../tracing/setup';
import { createDeliveryWorker, installTemporalRuntime } from './deliveryWorker';

/** The worker-only entry point (scale-out: as many as needed on one task queue). */
async function main() {
  const config = loadConfig();
  const logger = createLogger('worker', config.LOG_LEVEL);
  startTracing(config, 'hookrelay-worker');
  installTemporalRuntime(config, logger);
  await connectDatabase(config.MONGODB_URI, config.STORE_POSTGRES_URL);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const worker = await createDeliveryWorker({ config, logger, connection });
  // The SDK's Runtime already drains the worker on SIGINT/SIGTERM; run() then resolves.
  const stopMetrics = config.WORKER_METRICS_PORT ? serveWorkerMetrics(config, logger) : undefined;
  exitWhenParentDies();
  logger.info('worker polling', { taskQueue: config.TEMPORAL_TASK_QUEUE });
  await worker.run();
  await connection.close();
  await disconnectDatabase();
  await stopMetrics?.();
  await stopTracing();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
