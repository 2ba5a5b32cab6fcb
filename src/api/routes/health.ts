import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { pingDatabase } from '../../db/connect';
import type { Logger } from '../../logger';
import { temporalErrors } from '../../metrics/registry';
import { RETRY_AFTER_SECONDS } from '../errors';
import type { ApiOperation } from '../../openapi/operation';
import { healthSchema, readinessSchema } from '../../openapi/responses';

/**
 * `/healthz`: the process is up. `/readyz`: Temporal and the store answer (503 naming which does
 * not). Unauthenticated, so the answer says only which check failed; the reason, which may name
 * internal hosts, goes to the log.
 */
export function healthRoutes(temporal: Client, logger: Logger): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = await Promise.all([
      check('temporal', () => temporal.workflowService.getSystemInfo({})),
      check('store', () => pingDatabase()),
    ]);
    const failing = checks.filter((c) => !c.ok);
    if (!checks[0].ok) temporalErrors.inc({ operation: 'readiness' });
    for (const c of failing) logger.warn('readiness check failed', { check: c.name, reason: c.reason });
    if (failing.length) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(failing.length ? 503 : 200).json({
      status: failing.length ? 'unavailable' : 'ready',
      checks: Object.fromEntries(checks.map((c) => [c.name, c.ok ? 'ok' : 'unavailable'])),
    });
  });
  return router;
}

async function check(name: string, probe: () => Promise<unknown>, timeoutMs = 3000) {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { name, ok: true as const };
  } catch (err) {
    return { name, ok: false as const, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export const healthOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'The process is up',
    tag: 'Health',
    access: 'public',
    responses: { 200: { description: 'Up', schema: healthSchema } },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Temporal and the store answer',
    tag: 'Health',
    access: 'public',
    responses: {
      200: { description: 'Ready', schema: readinessSchema },
      503: {
        description: 'A check failed (named in checks)',
        schema: readinessSchema,
        headers: { 'Retry-After': 'Seconds to wait before trying again' },
      },
    },
  },
];
