import { Router } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import { canManageWebhooks } from '../../access/keys';
import type { WebhookDoc } from '../../db/webhook';
import { serializeFireableWebhook, serializeWebhook } from '../../webhooks/serialize';
import {
  createWebhook,
  deleteWebhook,
  findWebhook,
  listWebhooks,
  replaceWebhook,
  rotateWebhookSecret,
  setWebhookEnabled,
} from '../../webhooks/service';
import { authOf, requireAuth, requireWebhookManager } from '../auth';
import { AppError, fieldErrors } from '../../shared/errors';

const BASE = '/v3/extensions/event-webhooks';

const listQuery = z.object({
  'page-limit': z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});

/**
 * The Squadcast-compatible webhooks API. Listing needs any key (plain users see only the manual
 * webhooks they may fire); everything else needs an owner or a `manage_webhook` holder. `:id` is
 * the webhook's id or its slug. Single-webhook answers carry the signing secret; lists never do.
 */
export function webhookRoutes(config: Config): Router {
  const router = Router();
  const manager = [requireAuth, requireWebhookManager];

  router.get(BASE, requireAuth, async (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) throw AppError.badRequest('invalid page-limit or offset', fieldErrors(parsed.error));
    const { docs, total } = await listWebhooks(authOf(req), {
      limit: parsed.data['page-limit'],
      offset: parsed.data.offset,
    });
    // Plain users see only what they need to pick a manual webhook to fire: no URLs, mails or templates.
    const view = canManageWebhooks(authOf(req)) ? (d: WebhookDoc) => serializeWebhook(d) : serializeFireableWebhook;
    res.json({ data: { result: docs.map(view), meta: { total_count: total } } });
  });

  router.post(BASE, ...manager, async (req, res) => {
    const doc = await createWebhook(authOf(req), req.body, config);
    res.status(201).json({ data: serializeWebhook(doc, { withSecret: true }) });
  });

  router.get(`${BASE}/:id`, ...manager, async (req, res) => {
    const doc = await findWebhook(authOf(req), req.params.id as string);
    res.json({ data: serializeWebhook(doc, { withSecret: true }) });
  });

  router.put(`${BASE}/:id`, ...manager, async (req, res) => {
    const doc = await replaceWebhook(authOf(req), req.params.id as string, req.body, config);
    res.json({ data: serializeWebhook(doc, { withSecret: true }) });
  });

  router.delete(`${BASE}/:id`, ...manager, async (req, res) => {
    await deleteWebhook(authOf(req), req.params.id as string);
    res.status(204).end();
  });

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    router.post(`${BASE}/:id/${action}`, ...manager, async (req, res) => {
      const doc = await setWebhookEnabled(authOf(req), req.params.id as string, enabled);
      res.json({ data: serializeWebhook(doc, { withSecret: true }) });
    });
  }

  // `grace_ms`: how long the previous secrets keep signing, up to SECRET_ROTATION_GRACE_MS; 0
  // retires them at once (a leaked secret).
  const rotateBody = z
    .strictObject({ grace_ms: z.number().int().min(0).max(config.SECRET_ROTATION_GRACE_MS).optional() })
    .optional();
  router.post(`${BASE}/:id/rotate-secret`, ...manager, async (req, res) => {
    const parsed = rotateBody.safeParse(req.body && Object.keys(req.body).length ? req.body : undefined);
    if (!parsed.success) throw AppError.badRequest('invalid request body', fieldErrors(parsed.error));
    const doc = await rotateWebhookSecret(authOf(req), req.params.id as string, config, parsed.data?.grace_ms);
    res.json({ data: serializeWebhook(doc, { withSecret: true }) });
  });

  return router;
}
