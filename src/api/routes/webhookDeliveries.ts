import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import { readLogPage } from '../../deliveryLogs/read';
import { retentionCutoff } from '../../retention/sweep';
import { FailureMail } from '../../db/mail';
import { TemplateError } from '../../delivery/custom';
import { activeSecrets } from '../../delivery/signing';
import { sendTest, type TestTarget } from '../../webhooks/testSend';
import { newSecretValue } from '../../webhooks/secrets';
import { parseWebhookRequest } from '../../webhooks/schema';
import { findWebhook } from '../../webhooks/service';
import { checkWebhook } from '../../webhooks/validate';
import { ATTEMPT_TIMEOUT_MARGIN_MS } from '../../shared/delivery';
import type { WebhookVersion } from '../../shared/types';
import { authOf, requireAuth, requireWebhookManager } from '../auth';
import { AppError, fieldErrors } from '../../shared/errors';
import type { ApiOperation } from '../../openapi/operation';
import { dataOf, errorSchema, logPageSchema, mailListSchema, testResultSchema } from '../../openapi/responses';
import { WEBHOOK_EXAMPLE, webhookBodySchema } from './webhooks';

const BASE = '/v3/extensions/event-webhooks';
/** The webhook id that test sends of unsaved configs are logged under. */
export const UNSAVED = 'unsaved';

/** A text filter. No URL or event type holds a NUL, and PostgreSQL (the embedded store's) cannot. */
const textFilter = z
  .string()
  .min(1)
  .refine((s) => !s.includes('\0'), 'must not contain a NUL character');

const logQuery = z.object({
  // `in_progress`: attempts in flight, which have no log row yet.
  outcome: z.enum(['delivered', 'retrying', 'failed', 'cancelled', 'in_progress']).optional(),
  event_type: textFilter.optional(),
  url: textFilter.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  test: z.enum(['true', 'false']).optional(),
  // Paged like the webhooks list: `page-limit` and `offset`.
  'page-limit': z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** The caller's webhook by id or slug (404 otherwise), as the webhooks routes find it. */
const webhookOf = (req: Request) => findWebhook(authOf(req), String(req.params.id));

function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    throw AppError.badRequest(`invalid query: ${errors[0].field} ${errors[0].message}`, errors);
  }
  return parsed.data;
}

/**
 * Per-webhook delivery routes: test sends, logs and failure mails, for webhook managers of the
 * webhook's organization. Mounted before the webhooks router so `/test` is not read as an id.
 */
export function webhookDeliveryRoutes(deps: { config: Config }): Router {
  const router = Router();
  // Guards per route, not router.use: other routers share this path prefix.
  const manager = [requireAuth, requireWebhookManager];

  router.post(`${BASE}/test`, ...manager, async (req, res) => {
    // The same checks as saving the config: 400 for its shape, 422 for what the values mean.
    const parsed = parseWebhookRequest(req.body);
    if (!parsed.ok) throw AppError.badRequest('invalid webhook config', parsed.errors);
    const checked = await checkWebhook(parsed.value, {
      organizationId: authOf(req).organizationId,
      allowPrivateTargets: deps.config.ALLOW_PRIVATE_TARGETS,
    });
    if (!checked.ok) throw AppError.unprocessable('invalid webhook config', checked.errors);
    const config = checked.record;
    const target: TestTarget = {
      organizationId: authOf(req).organizationId,
      webhookId: UNSAVED,
      trigger_type: config.trigger_type,
      version: config.version,
      triggers: config.triggers,
      urls: config.urls,
      headers: config.headers,
      // An unsaved config has no secret yet: the request is signed with a throw-away one.
      secrets: [newSecretValue()],
      payload_type: config.payload_type,
      custom_payload: config.custom_payload,
    };
    res.json({ data: await runTest(target) });
  });

  router.post(`${BASE}/:id/test`, ...manager, async (req, res) => {
    const webhook = await webhookOf(req);
    const target: TestTarget = {
      organizationId: webhook.organizationId,
      webhookId: String(webhook._id),
      trigger_type: webhook.trigger_type,
      version: (webhook.version ?? 'v2') as WebhookVersion,
      triggers: webhook.triggers ?? [],
      urls: webhook.urls ?? [],
      headers: webhook.headers ?? [],
      secrets: activeSecrets(webhook.secrets ?? [], new Date()),
      payload_type: webhook.payload_type ?? 'standard',
      custom_payload: webhook.custom_payload ?? '',
    };
    res.json({ data: await runTest(target) });
  });

  async function runTest(target: TestTarget) {
    try {
      return await sendTest(target, deps.config);
    } catch (err) {
      if (err instanceof TemplateError) {
        throw AppError.unprocessable(`custom payload does not render: ${err.message}`, [
          { field: 'custom_payload', message: err.message },
        ]);
      }
      throw err;
    }
  }

  router.get(`${BASE}/:id/logs`, ...manager, async (req, res) => {
    const webhook = await webhookOf(req);
    const q = parseQuery(logQuery, req.query);
    const now = new Date();
    const page = await readLogPage(
      {
        organizationId: webhook.organizationId,
        webhookId: String(webhook._id),
        outcome: q.outcome,
        eventType: q.event_type,
        url: q.url,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        test: q.test === undefined ? undefined : q.test === 'true',
        offset: q.offset,
        limit: q['page-limit'],
      },
      {
        now,
        // No log row predates its webhook (nor the retention cutoff): the walk stops there.
        oldest: latest(webhook.created_at, retentionCutoff(deps.config.DATA_RETENTION_DAYS, now)),
        // A mark older than an attempt's deadline belongs to a worker or API process that died.
        runningSince: new Date(now.getTime() - (deps.config.DELIVERY_TIMEOUT_MS + ATTEMPT_TIMEOUT_MARGIN_MS)),
      },
    );
    res.json({
      data: {
        result: page.result,
        meta: { total_count: page.totalCount, total_count_exact: page.exact, limit: q['page-limit'], offset: q.offset },
      },
    });
  });

  router.get(`${BASE}/:id/mails`, ...manager, async (req, res) => {
    const webhook = await webhookOf(req);
    const filter = { organizationId: webhook.organizationId, webhookId: String(webhook._id) };
    const [rows, total] = await Promise.all([
      FailureMail.find(filter).sort({ created_at: -1 }).limit(100).lean(),
      FailureMail.countDocuments(filter),
    ]);
    res.json({
      data: {
        result: rows.map((m) => ({
          id: m._id,
          url: m.url,
          to: m.to,
          subject: m.subject,
          text: m.text,
          status: m.status,
          error: m.error ?? null,
          created_at: (m as { created_at?: Date }).created_at ?? null,
          sent_at: m.sentAt ?? null,
        })),
        meta: { total_count: total },
      },
    });
  });

  return router;
}

const latest = (...dates: (Date | null | undefined)[]): Date =>
  new Date(Math.max(0, ...dates.map((d) => (d ? d.getTime() : 0))));

const idParam = { id: "The webhook's id or slug" };
const notFound = { description: 'No such webhook in the organization', schema: errorSchema };

export const webhookDeliveryOperations: ApiOperation[] = [
  {
    method: 'post',
    path: `${BASE}/test`,
    summary: 'Send one real request per URL of an unsaved webhook config',
    tag: 'Deliveries',
    access: 'manager',
    body: { schema: webhookBodySchema, required: true, example: WEBHOOK_EXAMPLE },
    responses: {
      200: { description: 'What each URL answered', schema: dataOf(testResultSchema) },
      422: {
        description: 'The config is invalid (a refused URL, a template that does not render…)',
        schema: errorSchema,
      },
    },
  },
  {
    method: 'post',
    path: `${BASE}/:id/test`,
    summary: 'Send one real request per URL of a saved webhook',
    tag: 'Deliveries',
    access: 'manager',
    params: idParam,
    responses: {
      200: { description: 'What each URL answered', schema: dataOf(testResultSchema) },
      404: notFound,
      422: { description: 'The custom payload does not render', schema: errorSchema },
    },
  },
  {
    method: 'get',
    path: `${BASE}/:id/logs`,
    summary: 'Every delivery attempt of the webhook, newest first, in flight too',
    tag: 'Deliveries',
    access: 'manager',
    params: idParam,
    query: logQuery,
    responses: { 200: { description: 'A page of attempts', schema: dataOf(logPageSchema) }, 404: notFound },
  },
  {
    method: 'get',
    path: `${BASE}/:id/mails`,
    summary: 'Failure mails of the webhook (sent, or kept without SMTP)',
    tag: 'Deliveries',
    access: 'manager',
    params: idParam,
    responses: { 200: { description: 'The newest 100 mails', schema: dataOf(mailListSchema) }, 404: notFound },
  },
];
