import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { runRetentionSweeper } from '../retention/sweep';
import { watchBacklog } from '../events/backlog';
import type { EventLag } from '../events/lag';
import { listenOnCopies } from './acceptPerTurn';
import { createApp } from './app';
import { configureServer } from './server';

export interface ApiDeps {
  temporal: Client;
  config: Config;
  logger: Logger;
  /** Ask Temporal to hand each new event's first workflow task to a worker in this process. */
  eagerStart?: boolean;
  /** How late a worker in this process starts on accepted events (MAX_EVENT_LAG_MS). */
  eventLag?: EventLag;
}

/**
 * Listens, and runs the API's retention sweep.
 * Shared by the API-only entry point and the API-and-worker one. Resolves to a stop function.
 */
export function serveApi(deps: ApiDeps): () => Promise<void> {
  const { config, logger } = deps;
  const backlog =
    config.MAX_EVENT_BACKLOG > 0
      ? watchBacklog(deps.temporal, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE)
      : undefined;
  const app = createApp({ ...deps, backlog });
  let copies: Promise<Server[]> = Promise.resolve([]);
  const server: Server = app.listen(config.PORT, config.HOST, (err?: Error) => {
    // Express 5 hands a listen error (say, the port is taken) to this callback.
    if (err) {
      logger.error('api cannot listen', { url: `http://${config.HOST}:${config.PORT}`, error: err.message });
      process.exit(1);
    }
    copies = listenOnCopies(server, app, config.API_ACCEPTS_PER_TURN - 1).catch((e: Error) => {
      logger.warn('api accepts one new connection per event-loop turn', { error: e.message });
      return [];
    });
    logger.info('api listening', { url: `http://${config.HOST}:${config.PORT}` });
  });
  configureServer(server);
  // Deletes delivery logs, events and mails past DATA_RETENTION_DAYS, at start and then hourly.
  const stopRetention = runRetentionSweeper({ retentionDays: config.DATA_RETENTION_DAYS, logger });
  return async () => {
    backlog?.stop();
    // Not awaited: a long sweep must not hold up shutdown (its error after stop is not logged).
    void stopRetention();
    const servers = [server, ...(await copies)];
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  };
}
