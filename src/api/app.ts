import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { BacklogGauge } from '../events/backlog';
import type { EventLag } from '../events/lag';
import { consoleRoutes } from '../console/server';
import type { Logger } from '../logger';
import { admissionControl, scopeToRequest } from './admission';
import { limitAuthFailures } from './authFailures';
import { errorMiddleware } from './errors';
import { jsonBodies, unknownRoute } from './httpSemantics';
import { catalogRoutes } from './routes/catalog';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from '../metrics/http';
import { traceRequests } from '../tracing/http';
import { incidentRoutes } from './routes/incidents';
import { meRoutes } from './routes/me';
import { openApiRoutes } from './routes/openapi';
import { redeliveryRoutes } from './routes/redelivery';
import { templateRoutes } from './routes/templates';
import { webhookDeliveryRoutes } from './routes/webhookDeliveries';
import { webhookRoutes } from './routes/webhooks';

export interface AppDeps {
  temporal: Client;
  config: Config;
  logger: Logger;
  /** See ApiDeps.eagerStart. */
  eagerStart?: boolean;
  /** How far behind the workers are (MAX_EVENT_BACKLOG). */
  backlog?: BacklogGauge;
  /** See ApiDeps.eventLag. */
  eventLag?: EventLag;
}

/** Builds the Express app from injected dependencies; `main.ts` only wires and listens. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('authCacheTtlMs', deps.config.AUTH_CACHE_TTL_MS);
  app.use(traceRequests());
  app.use(limitAuthFailures(deps.config));
  app.use(consoleRoutes(deps.config, deps.logger));
  app.use(healthRoutes(deps.temporal, deps.logger));
  app.use(openApiRoutes(deps.config));
  app.use(metricsRoutes(deps.config));
  // After the health routes, which must answer however busy the rest is; most bounds before bodies
  // are parsed, so a refusal costs next to nothing, the lag bound after, for the event's id.
  const admission = admissionControl(deps.config, deps);
  app.use(admission.beforeBody);
  app.use(jsonBodies());
  app.use(admission.afterBody);
  app.use(scopeToRequest);
  app.use(meRoutes());
  app.use(eventRoutes(deps));
  app.use(incidentRoutes(deps));
  // Routers with fixed paths under /v3/extensions/event-webhooks (templates, events catalog, payload
  // validation, unsaved test) are mounted before the webhooks router and its /:id routes.
  app.use(webhookDeliveryRoutes(deps));
  app.use(redeliveryRoutes(deps));
  app.use(catalogRoutes());
  app.use(templateRoutes(deps.config));
  app.use(webhookRoutes(deps.config));

  app.use(unknownRoute(app));
  app.use(errorMiddleware((msg, err) => deps.logger.error(msg, { err })));
  return app;
}
