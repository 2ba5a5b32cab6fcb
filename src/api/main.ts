import type { Server } from 'node:http';
import { loadConfig } from '../config';
import { connectDatabase, disconnectDatabase } from '../db/connect';
import { runSweeper } from '../events/sweeper';
import { createLogger } from '../logger';
import { runRetentionSweeper } from '../retention/sweep';
import { connectTemporalClient } from '../temporal/client';
import { exitWhenParentDies, onShutdown } from '../process';
import { createApp } from './app';
import { configureServer } from './server';

/** The API entry point: wires config, the store and Temporal into the app and listens. */
async function main() {
  const config = loadConfig();
  const logger = createLogger('api', config.LOG_LEVEL);
  await connectDatabase(config.MONGODB_URI);
  const temporal = await connectTemporalClient(config);
  const app = createApp({ temporal, config, logger });
  const server: Server = app.listen(config.PORT, config.HOST, (err?: Error) => {
    // Express 5 hands a listen error (say, the port is taken) to this callback.
    if (err) {
      logger.error('api cannot listen', { url: `http://${config.HOST}:${config.PORT}`, error: err.message });
      process.exit(1);
    }
    logger.info('api listening', { url: `http://${config.HOST}:${config.PORT}` });
  });
  configureServer(server);
  // Starts events whose post stored them but crashed before starting their workflow.
  const stopSweeper = runSweeper({ temporal, config }, (err) => logger.error('event sweeper failed', { err }));
  // Deletes delivery logs, events and mails past DATA_RETENTION_DAYS, at start and then hourly.
  const stopRetention = runRetentionSweeper({ retentionDays: config.DATA_RETENTION_DAYS, logger });
  onShutdown(async () => {
    stopSweeper();
    // Not awaited: a long sweep must not hold up shutdown (its error after stop is not logged).
    void stopRetention();
    await new Promise((resolve) => server.close(resolve));
    await temporal.connection.close();
    await disconnectDatabase();
  });
  exitWhenParentDies();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
