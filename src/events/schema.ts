/** The start endpoint's request schema: one v2 event envelope, checked against the catalog. */
import { z } from 'zod';
import { INCIDENT_RESOURCE_EVENTS, V2_EVENT_TYPES, catalogEntry } from '../shared/catalog';
import { MAX_JSON_DEPTH, fieldNestedTooDeep } from '../shared/json';

const jsonObject = z.record(z.string(), z.unknown());
const idName = z.looseObject({ id: z.string().min(1), name: z.string() });

export const eventEnvelopeSchema = z
  .looseObject({
    version: z.literal('v2', { error: 'must be "v2"' }),
    event: z.looseObject({
      id: z.string().min(1).max(200),
      type: z.string().refine((t) => V2_EVENT_TYPES.has(t), { error: 'unknown event type' }),
      resource: z.string().min(1),
      timestamp: z.string().refine((t) => !Number.isNaN(Date.parse(t)), { error: 'must be an ISO 8601 time' }),
    }),
    data: z.looseObject({
      resource_data: jsonObject,
      resource_type: z.string().min(1),
      organization: z.looseObject({ id: z.string().optional(), name: z.string().optional() }).optional(),
      team: idName,
      incident: z.looseObject({ id: z.string().min(1) }).optional(),
    }),
  })
  .superRefine((env, ctx) => {
    // Any field, not only data: the whole envelope is stored and sent.
    const deep = fieldNestedTooDeep(env, ['event']);
    if (deep) {
      ctx.addIssue({
        code: 'custom',
        path: deep.split('.'),
        message: `is nested deeper than ${MAX_JSON_DEPTH} levels`,
      });
      return;
    }
    const entry = catalogEntry('v2', env.event.type);
    if (!entry) return;
    if (env.event.resource !== entry.event_class) {
      ctx.addIssue({ code: 'custom', path: ['event', 'resource'], message: `must be "${entry.event_class}"` });
    }
    if (env.data.resource_type !== env.event.resource) {
      ctx.addIssue({ code: 'custom', path: ['data', 'resource_type'], message: 'must equal event.resource' });
    }
    if (INCIDENT_RESOURCE_EVENTS.has(env.event.type)) {
      if (typeof env.data.resource_data.id !== 'string' || !env.data.resource_data.id) {
        ctx.addIssue({ code: 'custom', path: ['data', 'resource_data', 'id'], message: 'the incident needs an id' });
      }
    } else if (!env.data.incident) {
      ctx.addIssue({ code: 'custom', path: ['data', 'incident'], message: `required for ${env.event.type}` });
    }
  });

export type ParsedEnvelope = z.infer<typeof eventEnvelopeSchema>;
