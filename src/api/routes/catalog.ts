import { Router } from 'express';
import { z } from 'zod';
import { EVENT_CATALOG } from '../../shared/catalog';
import { requireAuth } from '../auth';
import { AppError, fieldErrors } from '../../shared/errors';
import type { ApiOperation } from '../../openapi/operation';
import { catalogSchema, dataOf } from '../../openapi/responses';

const query = z.object({ version: z.enum(['v1', 'v2']).default('v2') });

/**
 * `GET /v3/extensions/event-webhooks/events?version=v1|v2` (default v2): the events a webhook of
 * that version may subscribe to, as `{event_class, event_type}`. Any key of the org may read it.
 * Mounted before the webhooks router, whose `/:id` would otherwise take "events".
 */
export function catalogRoutes(): Router {
  const router = Router();
  router.get('/v3/extensions/event-webhooks/events', requireAuth, (req, res) => {
    const parsed = query.safeParse(req.query);
    if (!parsed.success) throw AppError.badRequest('version must be v1 or v2', fieldErrors(parsed.error));
    res.json({ data: EVENT_CATALOG[parsed.data.version].map((e) => ({ ...e })) });
  });
  return router;
}

export const catalogOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v3/extensions/event-webhooks/events',
    summary: 'The events a webhook of a version may subscribe to',
    tag: 'Catalog',
    access: 'key',
    query,
    responses: { 200: { description: 'The event catalog', schema: dataOf(catalogSchema) } },
  },
];
