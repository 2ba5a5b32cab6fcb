import type { manualFireWorkflow } from '../../workflows';
import crypto from 'node:crypto';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../../config';
import { latestIncident } from '../../events/incident';
import { organizationName } from '../../access/organizations';
import { findWebhook } from '../../webhooks/service';
import { serializeFiredWebhook } from '../../webhooks/serialize';
import { canManageWebhooks } from '../../access/keys';
import { manualFireWorkflowId, type ManualFireInput } from '../../shared/delivery';
import { startSearchAttributes } from '../../shared/searchAttributes';
import type { AuthContext, EventEnvelopeV2, JsonObject } from '../../shared/types';
import { authOf, requireAuth } from '../auth';
import { AppError, fieldErrors } from '../../shared/errors';
import { MAX_JSON_DEPTH, fieldNestedTooDeep } from '../../shared/json';
import type { ApiOperation } from '../../openapi/operation';
import { dataOf, errorSchema, firedWebhookSchema } from '../../openapi/responses';

const fireBody = z
  .strictObject({
    /** The incident as it is now, when the caller has it; else the remembered snapshot is used. */
    incident: z.looseObject({ id: z.string().min(1).optional() }).optional(),
    team: z.object({ id: z.string(), name: z.string() }).optional(),
  })
  .optional();

/** Owners always; users in one of the webhook's teams, or anyone when all teams are configured. */
export function mayFire(auth: AuthContext, webhook: { teams?: string[]; is_all_teams_configured?: boolean | null }) {
  if (auth.role === 'owner' || webhook.is_all_teams_configured) return true;
  return (webhook.teams ?? []).some((t) => auth.teamIds.includes(t));
}

/** The team an incident belongs to when the caller names none: its owner when that is a team. */
function teamOf(incident: JsonObject): { id: string; name: string } {
  const owner = incident.owner;
  if (owner && typeof owner === 'object' && !Array.isArray(owner) && owner.type === 'team') {
    return { id: String(owner.id ?? ''), name: String(owner.name ?? '') };
  }
  return { id: '', name: '' };
}

/** The response headers that carry a manual fire's ids (its body is the webhook, as in Squadcast). */
export const FIRE_HEADERS = {
  fireId: 'Hookrelay-Fire-Id',
  eventId: 'Hookrelay-Event-Id',
  workflowId: 'Hookrelay-Workflow-Id',
  runId: 'Hookrelay-Run-Id',
} as const;

/**
 * `POST /v3/incidents/{incidentID}/actions/webhook/{webhookID}`: fires a manual webhook for one
 * incident through its own workflow (retries, logs and mail as for events). 200 with the webhook
 * once started, as Squadcast answers; the fire's ids in `FIRE_HEADERS`.
 */
export function incidentRoutes(deps: { temporal: Client; config: Config }): Router {
  const router = Router();
  router.post('/v3/incidents/:incidentID/actions/webhook/:webhookID', requireAuth, async (req, res) => {
    const auth = authOf(req);
    const incidentId = String(req.params.incidentID);
    const webhookIdOrSlug = String(req.params.webhookID);
    const deep = fieldNestedTooDeep(req.body, ['incident']);
    if (deep) {
      throw AppError.badRequest('invalid request body', [
        { field: deep, message: `is nested deeper than ${MAX_JSON_DEPTH} levels` },
      ]);
    }
    const parsed = fireBody.safeParse(req.body && Object.keys(req.body).length ? req.body : undefined);
    if (!parsed.success) throw AppError.badRequest('invalid request body', fieldErrors(parsed.error));

    const webhook = await findWebhook(auth, webhookIdOrSlug);
    const webhookId = String(webhook._id);
    if (webhook.trigger_type !== 'manual') {
      throw AppError.badRequest('only manual webhooks can be fired', [
        { field: 'webhookID', message: 'is an automatic webhook' },
      ]);
    }
    if (!mayFire(auth, webhook)) throw AppError.forbidden('you are not in a team this webhook is configured for');
    if (!webhook.enabled) {
      throw AppError.unprocessable('webhook is disabled', [
        { field: 'webhookID', message: 'is disabled; enable it to fire' },
      ]);
    }

    const given = parsed.data?.incident;
    if (given?.id !== undefined && given.id !== incidentId) {
      throw AppError.badRequest('incident id mismatch', [{ field: 'incident.id', message: 'must equal incidentID' }]);
    }
    let incident: JsonObject;
    let team = parsed.data?.team;
    if (given) {
      incident = { ...(given as JsonObject), id: incidentId };
    } else {
      const latest = await latestIncident(auth.organizationId, incidentId);
      if (!latest) throw AppError.notFound('incident');
      incident = latest.incident;
      team ??= latest.team;
    }
    const fireId = crypto.randomUUID();
    const envelope: EventEnvelopeV2 = {
      version: 'v2',
      event: {
        id: `manual-${fireId}`,
        type: 'incident.triggered',
        resource: 'incident',
        timestamp: new Date().toISOString(),
      },
      data: {
        resource_data: incident,
        resource_type: 'incident',
        organization: { id: auth.organizationId, name: await organizationName(auth.organizationId) },
        team: team ?? teamOf(incident),
      },
    };
    const workflowId = manualFireWorkflowId(auth.organizationId, webhookId, fireId);
    const input: ManualFireInput = { organizationId: auth.organizationId, webhookId, envelope, acceptedAt: Date.now() };
    const handle = await deps.temporal.workflow.start<typeof manualFireWorkflow>('manualFireWorkflow', {
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [input],
      typedSearchAttributes: startSearchAttributes(auth.organizationId, envelope, [webhookId]),
      staticSummary: `manual fire of ${webhook.name} for incident ${incidentId}`,
    });
    // Squadcast answers 200 with the webhook object, and its SDK insists on that shape; the fire's
    // own ids go in headers, for clients that want to follow it (README, "The API").
    res.set({
      [FIRE_HEADERS.fireId]: fireId,
      [FIRE_HEADERS.eventId]: envelope.event.id,
      [FIRE_HEADERS.workflowId]: workflowId,
      [FIRE_HEADERS.runId]: handle.firstExecutionRunId,
    });
    res.json({ data: serializeFiredWebhook(webhook, { withTargets: canManageWebhooks(auth) }) });
  });
  return router;
}

export const incidentOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/v3/incidents/:incidentID/actions/webhook/:webhookID',
    summary: 'Fire a manual webhook for an incident',
    tag: 'Manual fire',
    access: 'key',
    params: { incidentID: 'The incident', webhookID: "The manual webhook's id or slug" },
    body: {
      schema: fireBody,
      required: false,
      example: { incident: { message: 'Disk full on db-1' }, team: { id: 'sre', name: 'SRE' } },
    },
    responses: {
      200: {
        description: "Started; the webhook in Squadcast's shape",
        schema: dataOf(firedWebhookSchema),
        headers: {
          [FIRE_HEADERS.fireId]: "The fire's id",
          [FIRE_HEADERS.eventId]: 'The event id it was sent as',
          [FIRE_HEADERS.workflowId]: 'The Temporal workflow id',
          [FIRE_HEADERS.runId]: 'The Temporal run id',
        },
      },
      403: { description: 'The caller is not in a team this webhook is configured for', schema: errorSchema },
      404: { description: 'No such webhook, or no event seen for the incident', schema: errorSchema },
      422: { description: 'The webhook is disabled', schema: errorSchema },
    },
  },
];
