import { Router, type Request } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import { recoverProgress, redeliver, startRecover } from '../../redelivery/service';
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
