import { Router, type Request } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import { z } from 'zod';
import type { ApiOperation } from '../../openapi/operation';
import { dataOf, errorSchema } from '../../openapi/responses';
import { recoverProgress, recoverRequestSchema, redeliver, startRecover } from '../../redelivery/service';
import { findWebhook } from '../../webhooks/service';
import { authOf, requireAuth, requireWebhookManager } from '../auth';

const BASE = '/v3/extensions/event-webhooks';

/** The caller's webhook by id or slug (404 otherwise, another organization's too). */
const webhookOf = (req: Request) => findWebhook(authOf(req), String(req.params.id));

/**
 * Redeliver one logged attempt, recover a window of failed deliveries, read a recover's progress:
 * for whoever may edit the webhook (owners, `manage_webhook`), within their organization.
 */
export function redeliveryRoutes(deps: { temporal: Client; config: Config }): Router {
  const router = Router();
  const manager = [requireAuth, requireWebhookManager];

  router.post(`${BASE}/:id/logs/:logId/redeliver`, ...manager, async (req, res) => {
    const started = await redeliver(deps, await webhookOf(req), String(req.params.logId));
    res.status(202).json({ data: started });
  });

  router.post(`${BASE}/:id/recover`, ...manager, async (req, res) => {
    const started = await startRecover(deps, await webhookOf(req), req.body);
    res.status(202).json({ data: started });
  });

  router.get(`${BASE}/:id/recover/:recoverId`, ...manager, async (req, res) => {
    res.json({ data: await recoverProgress(deps, await webhookOf(req), String(req.params.recoverId)) });
  });

  return router;
}

const recoverViewSchema = z.looseObject({
  recover_id: z.string(),
  workflow_id: z.string(),
  run_id: z.string().nullable(),
  since: z.string(),
  until: z.string(),
  state: z.string(),
  found: z.number(),
  started: z.number(),
  skipped: z.number(),
  remaining: z.number(),
  pages: z.number(),
  scanned: z.boolean(),
});
const idParam = { id: "The webhook's id or slug" };
const notFound = { description: 'No such webhook (or row, or recover) in the organization', schema: errorSchema };

export const redeliveryOperations: ApiOperation[] = [
  {
    method: 'post',
    path: `${BASE}/:id/logs/:logId/redeliver`,
    summary: "Send a logged attempt's event to its URL again: same webhook-id, fresh signature, current payload",
    tag: 'Deliveries',
    access: 'manager',
    params: { ...idParam, logId: 'The log row id (`id` in the logs list)' },
    responses: {
      202: {
        description: 'The redelivery started',
        schema: dataOf(
          z.looseObject({
            workflow_id: z.string(),
            run_id: z.string(),
            delivery_id: z.string(),
            event_id: z.string(),
            url: z.string(),
            round: z.string(),
            trigger: z.literal('redeliver'),
          }),
        ),
      },
      404: notFound,
      409: { description: 'A redelivery of this delivery to this URL is running', schema: errorSchema },
      422: {
        description: 'Not redeliverable: a test send, webhook disabled, URL removed, event no longer stored',
        schema: errorSchema,
      },
    },
  },
  {
    method: 'post',
    path: `${BASE}/:id/recover`,
    summary: 'Send again, once, every delivery whose final outcome in the window was failed',
    tag: 'Deliveries',
    access: 'manager',
    params: idParam,
    body: { schema: recoverRequestSchema, required: true, example: { since: '2026-12-01T00:00:00Z' } },
    responses: {
      202: {
        description: 'The recover started (or, for an identical request, the one already started: duplicate)',
        schema: dataOf(recoverViewSchema.extend({ duplicate: z.boolean() })),
      },
      404: notFound,
      422: { description: 'since/until invalid (named in errors)', schema: errorSchema },
    },
  },
  {
    method: 'get',
    path: `${BASE}/:id/recover/:recoverId`,
    summary: "A recover's progress",
    tag: 'Deliveries',
    access: 'manager',
    params: { ...idParam, recoverId: 'The recover_id its start answered' },
    responses: { 200: { description: 'Progress', schema: dataOf(recoverViewSchema) }, 404: notFound },
  },
];
