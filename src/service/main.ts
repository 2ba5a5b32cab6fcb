import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { serveApi } from '../api/serve';
import { loadConfig } from '../config';
import { connectDatabase, disconnectDatabase } from '../db/connect';
import { EventLag } from '../events/lag';
import { createLogger } from '../logger';
import { clientInterceptors, temporalConnectionOptions } from '../temporal/client';
import { exitWhenParentDies } from '../process';
import { startTracing, stopTracing } from '../tracing/setup';
import { createDeliveryWorker, installTemporalRuntime } from '../worker/deliveryWorker';

/**
 * The API and a delivery worker in one process: what `npm start` runs on one machine. The client
 * shares the worker's native connection, so Temporal can start each event's workflow eagerly:
 * its first task comes back in the answer to the start call and runs here at once, with no trip
 * through the task queue. Separate `src/api` and `src/worker` processes still work for scale-out.
 */
async function main() {
  const config = loadConfig();
  const logger = createLogger('service', config.LOG_LEVEL);
  startTracing(config, 'hookrelay');
  installTemporalRuntime(config, logger);
  await connectDatabase(config.MONGODB_URI, config.STORE_POSTGRES_URL);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const temporal = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    interceptors: clientInterceptors(),
  });
  // The API reads how late this worker starts on the events it accepted (MAX_EVENT_LAG_MS).
  const eventLag = new EventLag();
  const worker = await createDeliveryWorker({ config, logger, connection, eventLag });
  const stopApi = serveApi({ temporal, config, logger, eagerStart: true, eventLag });
  exitWhenParentDies();
  logger.info('worker polling', { taskQueue: config.TEMPORAL_TASK_QUEUE });
  // The SDK's Runtime drains the worker on SIGINT/SIGTERM; run() then resolves, and the API
  // stops after it, so accepted events are not left half-started.
  await worker.run();
  await stopApi();
  await connection.close();
  await disconnectDatabase();
  await stopTracing();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
