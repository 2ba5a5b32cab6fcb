/**
 * `GET /metrics` in Prometheus text format: a route on the API, and a small server of its own on
 * each worker-only process (WORKER_METRICS_PORT). With METRICS_TOKEN set, a scrape must send
 * `Authorization: Bearer <token>`.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config';
import type { ApiOperation } from '../openapi/operation';
import type { Logger } from '../logger';
import { metricsRegistry } from './registry';

type MetricsConfig = Pick<Config, 'METRICS_TOKEN'>;

/** Constant-time comparison, so the answer's timing does not tell how much of a guess was right. */
function authorized(header: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

async function answer(
  authorization: string | undefined,
  config: MetricsConfig,
): Promise<{ status: number; type: string; body: string }> {
  if (!authorized(authorization, config.METRICS_TOKEN)) {
    return {
      status: 401,
      type: 'text/plain; charset=utf-8',
      body: 'metrics need Authorization: Bearer <METRICS_TOKEN>\n',
    };
  }
  return { status: 200, type: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}

/** The API's route, mounted beside the health routes (before admission control: a scrape always answers). */
export function metricsRoutes(config: MetricsConfig): Router {
  const router = Router();
  router.get('/metrics', async (req: Request, res: Response) => {
    const a = await answer(req.headers.authorization, config);
    if (a.status === 401) res.set('WWW-Authenticate', 'Bearer');
    res.status(a.status).type(a.type).send(a.body);
  });
  return router;
}

/**
 * The worker's own /metrics server on HOST:WORKER_METRICS_PORT. A port already taken is logged,
 * not fatal: deliveries matter more than their metrics. Resolves to a stop function.
 */
export function serveWorkerMetrics(
  config: MetricsConfig & Pick<Config, 'HOST' | 'WORKER_METRICS_PORT'>,
  logger: Logger,
) {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://x').pathname !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    answer(req.headers.authorization, config).then(
      (a) => res.writeHead(a.status, { 'content-type': a.type }).end(a.body),
      () => res.writeHead(500).end(),
    );
  });
  server.on('error', (err) =>
    logger.error('worker metrics cannot listen', { port: config.WORKER_METRICS_PORT, error: err.message }),
  );
  server.listen(config.WORKER_METRICS_PORT, config.HOST, () =>
    logger.info('worker metrics listening', { url: `http://${config.HOST}:${config.WORKER_METRICS_PORT}/metrics` }),
  );
  server.unref();
  return async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}

export const metricsOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (a bearer token when METRICS_TOKEN is set)',
    tag: 'Health',
    access: 'public',
    responses: {
      200: { description: 'Prometheus text format', contentType: 'text/plain', schema: z.string() },
      401: {
        description: 'METRICS_TOKEN is set and the bearer token is missing or wrong',
        contentType: 'text/plain',
        schema: z.string(),
      },
    },
  },
];
