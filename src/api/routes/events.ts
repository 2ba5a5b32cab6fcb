import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import { acceptEvent, eventEnvelopeSchema } from '../../delivery/ingest';
import { isTransientStoreError } from '../../delivery/storeRetry';
import { authOf, requireAuth } from '../auth';
import { AppError, fieldErrors } from '../errors';

/** `POST /v3/events`: an event producer hands over one v2 envelope; 202 once it is durable. */
export function eventRoutes(deps: { temporal: Client; config: Config }): Router {
  const router = Router();
  router.post('/v3/events', requireAuth, async (req, res) => {
    const parsed = eventEnvelopeSchema.safeParse(req.body);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error);
      throw AppError.badRequest(`invalid event: ${errors[0].field} ${errors[0].message}`, errors);
    }
    try {
      const accepted = await acceptEvent(deps, authOf(req).organizationId, parsed.data);
      res.status(202).json({ data: accepted });
    } catch (err) {
      // Posting the same event again is safe: tell the producer to do so (503 adds Retry-After).
      if (isTransientStoreError(err)) {
        throw new AppError(503, 'the store is busy; post the event again');
      }
      throw err;
    }
  });
  return router;
}
