import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig } from '../config';
import { connectDatabase, disconnectDatabase } from '../db/connect';
import { createLogger } from '../logger';
import { exitWhenParentDies } from '../process';
import { sharedTemplateEngine } from '../templates/engine';
import { workerOptions } from './options';

/** The worker entry point: connects, registers workflows and activities, polls until stopped. */
async function main() {
  const config = loadConfig();
  const logger = createLogger('worker', config.LOG_LEVEL);
  Runtime.install({ logger: new DefaultLogger(config.LOG_LEVEL.toUpperCase() as 'INFO') });
  await connectDatabase(config.MONGODB_URI);
  // Build (first run only) and load the Jsonnet evaluator now, not on the first custom payload.
  await sharedTemplateEngine(config)
    .ready()
    .catch((err: unknown) => logger.warn('custom payloads unavailable until the Jsonnet evaluator builds', { err }));
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    ...workerOptions(config),
    connection,
    activities: createActivities({ config, logger }),
  });
  // The SDK's Runtime already drains the worker on SIGINT/SIGTERM; run() then resolves.
  exitWhenParentDies();
  logger.info('worker polling', { taskQueue: config.TEMPORAL_TASK_QUEUE });
  await worker.run();
  await connection.close();
  await disconnectDatabase();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
