import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig } from '../config';
import { connectDatabase, disconnectDatabase } from '../db/connect';
import { createLogger } from '../logger';
import { exitWhenParentDies } from '../process';
import { sharedTemplateEngine } from '../templates/engine';
import { temporalConnectionOptions } from '../temporal/client';
import { workerOptions } from './options';

/** The SDK's logger, with webpack's module-by-module build report at DEBUG ("Workflow bundle created" stays). */
class QuietBundleLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    super.log(level === 'INFO' && /\nwebpack \S+ compiled/.test(message) ? 'DEBUG' : level, message, meta);
  }
}

/** The worker entry point: connects, registers workflows and activities, polls until stopped. */
async function main() {
  const config = loadConfig();
  const logger = createLogger('worker', config.LOG_LEVEL);
  Runtime.install({ logger: new QuietBundleLogger(config.LOG_LEVEL.toUpperCase() as LogLevel) });
  await connectDatabase(config.MONGODB_URI);
  // Build (first run only) and load the Jsonnet evaluator now, not on the first custom payload.
  await sharedTemplateEngine(config)
    .ready()
    .catch((err: unknown) => logger.warn('custom payloads unavailable until the Jsonnet evaluator builds', { err }));
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
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
