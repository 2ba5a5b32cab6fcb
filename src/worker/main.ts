import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig } from '../config';
import { connectDatabase, disconnectDatabase } from '../db/connect';
import { createLogger } from '../logger';
import { exitWhenParentDies } from '../process';
import { workerOptions } from './options';

/** The worker entry point: connects, registers workflows and activities, polls until stopped. */
async function main() {
  const config = loadConfig();
  const logger = createLogger('worker', config.LOG_LEVEL);
  await connectDatabase(config.MONGODB_URI);
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
