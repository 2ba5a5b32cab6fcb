import { loadConfig } from '../config';
import { connectDatabase, disconnectDatabase } from '../db/connect';
import { createLogger } from '../logger';
import { connectTemporalClient } from '../temporal/client';
import { exitWhenParentDies, onShutdown } from '../process';
import { startTracing, stopTracing } from '../tracing/setup';
import { serveApi } from './serve';

/** The API-only entry point (scale-out: API and workers as separate processes). */
async function main() {
  const config = loadConfig();
  const logger = createLogger('api', config.LOG_LEVEL);
  startTracing(config, 'hookrelay-api');
  await connectDatabase(config.MONGODB_URI, config.STORE_POSTGRES_URL);
  const temporal = await connectTemporalClient(config);
  const stopApi = serveApi({ temporal, config, logger });
  onShutdown(async () => {
    await stopApi();
    await temporal.connection.close();
    await disconnectDatabase();
    await stopTracing();
  });
  exitWhenParentDies();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
