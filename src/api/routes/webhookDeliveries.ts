import { Router, type Request } from 'express';
import type { InferSchemaType } from 'mongoose';
import { z } from 'zod';
import type { Config } from '../../config';
import { AttemptInFlight, DeliveryLog, attemptLogId, type DeliveryLogFields } from '../../db/deliveryLog';
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

const BASE = '/v3/extensions/event-webhooks';
/** The webhook id that test sends of unsaved configs are logged under. */
export const UNSAVED = 'unsaved';

const logQuery = z.object({
  // `in_progress`: attempts in flight, which have no log row yet.
  outcome: z.enum(['delivered', 'retrying', 'failed', 'cancelled', 'in_progress']).optional(),
  event_type: z.string().min(1).optional(),
  url: z.string().min(1).optional(),
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

type LogRow = DeliveryLogFields & { _id: unknown };
type InFlightRow = InferSchemaType<typeof AttemptInFlight.schema>;

/**
 * One shape for a finished attempt (its log row) and one in flight (`row` null: outcome
 * `in_progress`, no answer yet). An attempt in flight has the id its log row will have.
 */
function attemptView(attempt: InFlightRow | LogRow, row: LogRow | null) {
  return {
    id: row ? String(row._id) : String(attemptLogId(attempt.deliveryId, attempt.url, attempt.attempt)),
    timestamp: attempt.timestamp,
    webhook_id: attempt.webhookId,
    delivery_id: attempt.deliveryId,
    event_id: attempt.eventId,
    event_type: attempt.eventType,
    url: attempt.url,
    method: attempt.method,
    attempt: attempt.attempt,
    max_attempts: attempt.maxAttempts,
    outcome: row ? row.outcome : 'in_progress',
    status: row?.status ?? null,
    error: row?.error ?? null,
    duration_ms: row?.durationMs ?? null,
    request: {
      headers: Object.fromEntries((attempt.requestHeaders ?? []).map((h) => [h.name, h.value])),
      body: attempt.requestBody,
    },
    response: row ? { body: row.responseBody ?? null } : null,
    trigger: attempt.trigger,
    test: row ? row.test : attempt.trigger === 'test',
  };
}
type AttemptView = ReturnType<typeof attemptView>;

/** Newest first; at equal times by id, which for log rows is the store's own tie-break (`_id: -1`). */
const newestFirst = (a: AttemptView, b: AttemptView) =>
  b.timestamp.getTime() - a.timestamp.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

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
    // Filters both sources share; `outcome` and `test` differ (a mark has no outcome, only a trigger).
    const common: Record<string, unknown> = { organizationId: webhook.organizationId, webhookId: String(webhook._id) };
    if (q.event_type) common.eventType = q.event_type;
    if (q.url) common.url = q.url;
    if (q.from || q.to) {
      common.timestamp = { ...(q.from ? { $gte: new Date(q.from) } : {}), ...(q.to ? { $lte: new Date(q.to) } : {}) };
    }
    const finishedFilter: Record<string, unknown> = { ...common };
    if (q.outcome) finishedFilter.outcome = q.outcome;
    if (q.test) finishedFilter.test = q.test === 'true';
    const inFlightFilter: Record<string, unknown> = { ...common };
    if (q.test) inFlightFilter.trigger = q.test === 'true' ? 'test' : { $ne: 'test' };
    const wantFinished = q.outcome !== 'in_progress';
    const wantInFlight = !q.outcome || q.outcome === 'in_progress';
    const limit = q['page-limit'];
    const offset = q.offset;

    // A mark older than an attempt's deadline belongs to a worker or API process that died: that
    // attempt is not running, and the next attempt will log it as interrupted.
    const running = Date.now() - (deps.config.DELIVERY_TIMEOUT_MS + ATTEMPT_TIMEOUT_MARGIN_MS);
    const marks = wantInFlight
      ? (await AttemptInFlight.find(inFlightFilter).lean<InFlightRow[]>()).filter(
          (m) => m.timestamp.getTime() >= running,
        )
      : [];
    // The page [offset, offset + limit) of both sources merged holds at most `marks.length` rows
    // from marks, so the log rows in it lie within [offset - marks.length, offset + limit): read
    // that window, merge, and cut the page out of it.
    const skip = Math.max(0, offset - marks.length);
    const [rows, finishedTotal] = wantFinished
      ? await Promise.all([
          DeliveryLog.find(finishedFilter)
            .sort({ timestamp: -1, _id: -1 })
            .skip(skip)
            .limit(offset + limit - skip)
            .lean<LogRow[]>(),
          DeliveryLog.countDocuments(finishedFilter),
        ])
      : [[], 0];
    // Checked after the rows were read, so an attempt that finished meanwhile is never listed twice
    // (at worst it is missing from this one answer). A mark left by a dead worker whose attempt was
    // logged since ("interrupted") is skipped the same way.
    const inFlight = await unfinished(marks);
    const page = [...rows.map((r) => attemptView(r, r)), ...inFlight.map((m) => attemptView(m, null))]
      .sort(newestFirst)
      .slice(offset - skip, offset - skip + limit);
    res.json({ data: { result: page, meta: { total_count: finishedTotal + inFlight.length, limit, offset } } });
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

/** The marks whose attempt has no log row yet. */
async function unfinished(marks: InFlightRow[]): Promise<InFlightRow[]> {
  if (!marks.length) return marks;
  const ids = marks.map((m) => attemptLogId(m.deliveryId, m.url, m.attempt));
  const logged = new Set((await DeliveryLog.find({ _id: { $in: ids } }, { _id: 1 }).lean()).map((r) => String(r._id)));
  return marks.filter((_, i) => !logged.has(String(ids[i])));
}
