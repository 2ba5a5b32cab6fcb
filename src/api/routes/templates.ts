import { Router } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import { catalogEntry } from '../../shared/catalog';
import { sharedTemplateEngine } from '../../templates/engine';
import { libraryTemplate, libraryTemplates, summarize } from '../../templates/library';
import { validateTemplate } from '../../templates/validate';
import { MAX_TEMPLATE_CHARS } from '../../webhooks/schema';
import { requireAuth, requireWebhookManager } from '../auth';
import { AppError, fieldErrors } from '../../shared/errors';
import type { ApiOperation } from '../../openapi/operation';
import {
  dataOf,
  errorSchema,
  templateSchema,
  templateSummarySchema,
  templateValidationSchema,
} from '../../openapi/responses';

// Strict like every other body: a misspelt or unsupported field (say `sample`) is refused, not ignored.
const validateBody = z.strictObject({
  language: z.string(),
  custom_payload: z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_TEMPLATE_CHARS, `must be at most ${MAX_TEMPLATE_CHARS} characters`),
  event_type: z.string().min(1).optional(),
  version: z.enum(['v1', 'v2']).default('v2'),
});
const DEFAULT_EVENT = { v1: 'incident_triggered', v2: 'incident.triggered' } as const;

/**
 * The template library (`GET …/templates`, `GET …/templates/:slug`, any key of the org) and
 * `POST …/payload/validate` (webhook managers): a custom payload rendered against the built-in
 * sample of one event. A template that does not render is a 200 with `valid: false` and where it
 * failed; a malformed request is a 400, a well-formed but unsupported one a 422. Mounted before
 * the webhooks router, whose `/:id` would otherwise take "templates" and "payload".
 */
export function templateRoutes(config: Config): Router {
  const router = Router();

  router.get('/v3/extensions/event-webhooks/templates', requireAuth, (_req, res) => {
    res.json({ data: libraryTemplates().map(summarize) });
  });

  router.get('/v3/extensions/event-webhooks/templates/:slug', requireAuth, (req, res) => {
    const template = libraryTemplate(String(req.params.slug));
    if (!template) throw AppError.notFound(`template ${req.params.slug}`);
    res.json({ data: template });
  });

  router.post(
    '/v3/extensions/event-webhooks/payload/validate',
    requireAuth,
    requireWebhookManager,
    async (req, res) => {
      const parsed = validateBody.safeParse(req.body ?? {});
      if (!parsed.success) {
        const errors = fieldErrors(parsed.error);
        throw AppError.badRequest(`invalid request: ${errors[0].field} ${errors[0].message}`, errors);
      }
      const { language, custom_payload, version } = parsed.data;
      if (language !== 'jsonnet') {
        throw AppError.unprocessable('only jsonnet templates are supported', [
          { field: 'language', message: 'must be "jsonnet"' },
        ]);
      }
      const eventType = parsed.data.event_type ?? DEFAULT_EVENT[version];
      if (!catalogEntry(version, eventType)) {
        throw AppError.unprocessable(`unknown ${version} event type ${eventType}`, [
          {
            field: 'event_type',
            message: `is not a ${version} event type (see GET /v3/extensions/event-webhooks/events)`,
          },
        ]);
      }
      // A failing engine rejects with TemplateEngineUnavailable: 503 from the error middleware.
      const result = await validateTemplate(sharedTemplateEngine(config), custom_payload, [eventType]);
      res.json({
        data: result.ok
          ? { valid: true, event_type: eventType, rendered: result.rendered[0].value }
          : { valid: false, event_type: eventType, error: result.error },
      });
    },
  );

  return router;
}

export const templateOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v3/extensions/event-webhooks/templates',
    summary: 'The template library',
    tag: 'Templates',
    access: 'key',
    responses: {
      200: { description: 'Every library template, without its code', schema: dataOf(z.array(templateSummarySchema)) },
    },
  },
  {
    method: 'get',
    path: '/v3/extensions/event-webhooks/templates/:slug',
    summary: 'One library template, with its code',
    tag: 'Templates',
    access: 'key',
    params: { slug: "The template's slug" },
    responses: {
      200: { description: 'The template', schema: dataOf(templateSchema) },
      404: { description: 'No such template', schema: errorSchema },
    },
  },
  {
    method: 'post',
    path: '/v3/extensions/event-webhooks/payload/validate',
    summary: 'Render a Jsonnet template against the sample of one event',
    tag: 'Templates',
    access: 'manager',
    body: {
      schema: validateBody,
      required: true,
      example: { language: 'jsonnet', custom_payload: '{ text: root.data.resource_data.message }', version: 'v2' },
    },
    responses: {
      200: { description: 'Rendered, or where it failed (valid: false)', schema: dataOf(templateValidationSchema) },
      422: { description: 'Not jsonnet, or an unknown event type', schema: errorSchema },
    },
  },
];
