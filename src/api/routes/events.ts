import { Router } from 'express';
import type { Config } from '../../config';
import { acceptEvent, type IngestDeps } from '../../events/accept';
import { eventEnvelopeSchema } from '../../events/schema';
import { sampleEvent } from '../../payloads/samples';
import { authOf, requireAuth } from '../auth';
import { AppError, fieldErrors } from '../../shared/errors';
import type { ApiOperation } from '../../openapi/operation';
import { acceptedEventSchema, dataOf } from '../../openapi/responses';

/** `POST /v3/events`: an event producer hands over one v2 envelope; 202 once it is durable. */
export function eventRoutes(deps: IngestDeps & { config: Config }): Router {
  const router = Router();
  router.post('/v3/events', requireAuth, async (req, res) => {
    const parsed = eventEnvelopeSchema.safeParse(req.body);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error);
      throw AppError.badRequest(`invalid event: ${errors[0].field} ${errors[0].message}`, errors);
    }
    // A busy store answers 503 with Retry-After (the error middleware): posting the same event
    // again is safe.
    res.status(202).json({ data: await acceptEvent(deps, authOf(req).organizationId, parsed.data) });
  });
  return router;
}

export const eventOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/v3/events',
    summary: 'Accept one v2 event envelope (event.id is the idempotency key)',
    tag: 'Events',
    access: 'key',
    body: { schema: eventEnvelopeSchema, required: true, example: sampleEvent('incident.triggered') },
    responses: {
      202: { description: 'Accepted (or a repeat: duplicate true)', schema: dataOf(acceptedEventSchema) },
    },
  },
];
