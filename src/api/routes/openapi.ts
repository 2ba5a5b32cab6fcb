import { Router } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import { openApiDocument } from '../../openapi/document';
import type { ApiOperation } from '../../openapi/operation';
import { catalogOperations } from './catalog';
import { eventOperations } from './events';
import { metricsOperations } from '../../metrics/http';
import { healthOperations } from './health';
import { incidentOperations } from './incidents';
import { meOperations } from './me';
import { redeliveryOperations } from './redelivery';
import { templateOperations } from './templates';
import { webhookDeliveryOperations } from './webhookDeliveries';
import { webhookOperations } from './webhooks';

const openApiOperation: ApiOperation = {
  method: 'get',
  path: '/openapi.json',
  summary: 'This document',
  tag: 'Docs',
  access: 'public',
  responses: { 200: { description: 'The OpenAPI 3.1 document', schema: z.looseObject({ openapi: z.string() }) } },
};

/** Every route's declaration; a route mounted without one fails test/integration/openapi. */
export function apiOperations(config: Pick<Config, 'SECRET_ROTATION_GRACE_MS'>): ApiOperation[] {
  return [
    ...healthOperations,
    ...metricsOperations,
    openApiOperation,
    ...meOperations,
    ...eventOperations,
    ...incidentOperations,
    ...webhookDeliveryOperations,
    ...redeliveryOperations,
    ...catalogOperations,
    ...templateOperations,
    ...webhookOperations(config),
  ];
}

export function apiDocument(config: Pick<Config, 'SECRET_ROTATION_GRACE_MS'>) {
  return openApiDocument(
    {
      title: 'hookrelay',
      version: 'v3',
      description:
        'Outgoing webhooks with Squadcast-compatible field names. Success is {"data": …}; errors are ' +
        '{"meta": {"status", "error_message", "errors": [{"field", "message"}]}}.',
    },
    apiOperations(config),
  );
}

/**
 * `GET /openapi.json`, without a key: the document generated from the routes' own request schemas.
 * Built once, at the first request (it depends only on the configuration).
 */
export function openApiRoutes(config: Config): Router {
  const router = Router();
  let document: ReturnType<typeof apiDocument> | undefined;
  router.get('/openapi.json', (_req, res) => {
    document ??= apiDocument(config);
    res.json(document);
  });
  return router;
}
