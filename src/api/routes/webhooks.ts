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
import type { ApiOperation, ApiResponse } from '../../openapi/operation';
import { dataOf, errorSchema, webhookListSchema, webhookSchema } from '../../openapi/responses';
import { READ_ONLY_FIELDS, webhookRequestSchema } from '../../webhooks/schema';

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

  const rotateBody = rotateBodySchema(config.SECRET_ROTATION_GRACE_MS);
  router.post(`${BASE}/:id/rotate-secret`, ...manager, async (req, res) => {
    const parsed = rotateBody.safeParse(req.body && Object.keys(req.body).length ? req.body : undefined);
    if (!parsed.success) throw AppError.badRequest('invalid request body', fieldErrors(parsed.error));
    const doc = await rotateWebhookSecret(authOf(req), req.params.id as string, config, parsed.data?.grace_ms);
    res.json({ data: serializeWebhook(doc, { withSecret: true }) });
  });

  return router;
}

/**
 * `grace_ms`: how long the previous secrets keep signing, up to SECRET_ROTATION_GRACE_MS; 0
 * retires them at once (a leaked secret).
 */
const rotateBodySchema = (maxGraceMs: number) =>
  z.strictObject({ grace_ms: z.number().int().min(0).max(maxGraceMs).optional() }).optional();

/**
 * The create/replace body as parseWebhookRequest takes it: the request schema, plus the fields
 * answers add, which a body read back and sent again may carry (they are ignored).
 */
export const webhookBodySchema = webhookRequestSchema.extend(
  Object.fromEntries(READ_ONLY_FIELDS.map((k) => [k, z.unknown().optional().describe('read-only; ignored')])),
);

/** A body the create, replace and test routes accept (test/unit/openapi parses it). */
export const WEBHOOK_EXAMPLE = {
  name: 'On-call Slack channel',
  trigger_type: 'automatic',
  version: 'v2',
  triggers: [{ event_class: 'incident', event_type: 'incident.triggered' }],
  urls: [{ url: 'https://hooks.example.com/incidents', method: 'POST' }],
  header: { 'X-Team': 'sre' },
  max_retry: 3,
  mail_ids: ['oncall@example.com'],
};

const idParam = { id: "The webhook's id or slug" };
const ID = { id: '$response.body#/data/id' };
/** A created webhook's id feeds every route about one webhook. */
const webhookLinks: ApiResponse['links'] = {
  read: { method: 'get', path: `${BASE}/:id`, parameters: ID },
  replace: { method: 'put', path: `${BASE}/:id`, parameters: ID },
  delete: { method: 'delete', path: `${BASE}/:id`, parameters: ID },
  enable: { method: 'post', path: `${BASE}/:id/enable`, parameters: ID },
  disable: { method: 'post', path: `${BASE}/:id/disable`, parameters: ID },
  rotateSecret: { method: 'post', path: `${BASE}/:id/rotate-secret`, parameters: ID },
  test: { method: 'post', path: `${BASE}/:id/test`, parameters: ID },
  logs: { method: 'get', path: `${BASE}/:id/logs`, parameters: ID },
  mails: { method: 'get', path: `${BASE}/:id/mails`, parameters: ID },
  fire: {
    method: 'post',
    path: '/v3/incidents/:incidentID/actions/webhook/:webhookID',
    parameters: { webhookID: '$response.body#/data/id' },
  },
};
const notFound = { description: 'No such webhook in the organization', schema: errorSchema };
const single = (description: string) => ({ description, schema: dataOf(webhookSchema) });
const conflict = { description: 'Changed by another request meanwhile; read it again and retry', schema: errorSchema };
const invalid = { description: 'Well formed but not acceptable (each bad field named)', schema: errorSchema };

export const webhookOperations = (config: Pick<Config, 'SECRET_ROTATION_GRACE_MS'>): ApiOperation[] => [
  {
    method: 'get',
    path: BASE,
    summary: 'List webhooks (plain users: the manual webhooks they may fire)',
    tag: 'Webhooks',
    access: 'key',
    query: listQuery,
    responses: { 200: { description: 'A page of webhooks', schema: dataOf(webhookListSchema) } },
  },
  {
    method: 'post',
    path: BASE,
    summary: 'Create a webhook',
    tag: 'Webhooks',
    access: 'manager',
    body: { schema: webhookBodySchema, required: true, example: WEBHOOK_EXAMPLE },
    responses: { 201: { ...single('Created, with its signing secret'), links: webhookLinks }, 422: invalid },
  },
  {
    method: 'get',
    path: `${BASE}/:id`,
    summary: 'Read one webhook',
    tag: 'Webhooks',
    access: 'manager',
    params: idParam,
    responses: { 200: single('The webhook, with its signing secret'), 404: notFound },
  },
  {
    method: 'put',
    path: `${BASE}/:id`,
    summary: 'Replace a webhook',
    tag: 'Webhooks',
    access: 'manager',
    params: idParam,
    body: { schema: webhookBodySchema, required: true, example: WEBHOOK_EXAMPLE },
    responses: { 200: single('Replaced'), 404: notFound, 409: conflict, 422: invalid },
  },
  {
    method: 'delete',
    path: `${BASE}/:id`,
    summary: 'Delete a webhook',
    tag: 'Webhooks',
    access: 'manager',
    params: idParam,
    responses: { 204: { description: 'Deleted' }, 404: notFound },
  },
  ...(['enable', 'disable'] as const).map((action): ApiOperation => ({
    method: 'post',
    path: `${BASE}/:id/${action}`,
    summary: `${action === 'enable' ? 'Enable' : 'Disable'} a webhook`,
    tag: 'Webhooks',
    access: 'manager',
    params: idParam,
    responses: { 200: single(`${action === 'enable' ? 'Enabled' : 'Disabled'}`), 404: notFound },
  })),
  {
    method: 'post',
    path: `${BASE}/:id/rotate-secret`,
    summary: 'A new signing secret; the previous ones sign on for grace_ms',
    tag: 'Webhooks',
    access: 'manager',
    params: idParam,
    body: { schema: rotateBodySchema(config.SECRET_ROTATION_GRACE_MS), required: false, example: { grace_ms: 0 } },
    responses: { 200: single('Rotated, with the new secret'), 404: notFound, 409: conflict },
  },
];
