/**
 * Types that the API, the workflows and the activities all agree on. This file imports nothing
 * with side effects, so workflow code may import it.
 */
import type { WebhookVersion } from './catalog';

export type { WebhookVersion };

export type Role = 'owner' | 'user';
export const PERMISSIONS = ['manage_webhook'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Who is calling: every API key acts as one user of one organization. */
export interface AuthContext {
  organizationId: string;
  /** The org's human-readable slug, e.g. "acme". */
  organizationSlug: string;
  userId: string;
  role: Role;
  permissions: Permission[];
  teamIds: string[];
  keyId: string;
}

export type HttpMethod = 'POST' | 'PUT' | 'PATCH';
export const HTTP_METHODS: readonly HttpMethod[] = ['POST', 'PUT', 'PATCH'];

export type TriggerType = 'automatic' | 'manual';
export type PayloadType = 'standard' | 'custom';

/** A JSON value as it comes off the wire. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The v2 event envelope that producers post to /v3/events and v2 webhooks receive. */
export interface EventEnvelopeV2 {
  version: 'v2';
  event: { id: string; type: string; resource: string; timestamp: string };
  data: {
    resource_data: JsonObject;
    resource_type: string;
    organization: { id: string; name: string };
    team: { id: string; name: string };
    incident?: JsonObject;
    [key: string]: Json | undefined;
  };
}

/** The outcome of one HTTP attempt, as logged. */
export type AttemptOutcome = 'delivered' | 'failed' | 'retrying' | 'cancelled';

/**
 * The final status of one event's workflow run, set as a search attribute. `duplicate`: a repeat
 * of an event accepted long ago (after Temporal forgot its run), which delivers nothing.
 */
export type RunStatus = 'delivered' | 'partially_failed' | 'failed' | 'no_match' | 'duplicate';
