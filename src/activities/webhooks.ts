import type { Config } from '../config';
import { findOwnedById } from '../db/byId';
import { SharedReads } from '../db/sharedReads';
import { Webhook } from '../db/webhook';
import { PLANNED_FIELDS, keepPlanned } from '../delivery/recentWebhooks';
import { urlTargetOf } from '../delivery/target';
import { v1EventTypeFor } from '../shared/catalog';
import type { DeliveryPlan, DeliveryRetryProfile, WebhookPlan } from '../shared/delivery';
import type { HttpMethod, PayloadType, WebhookVersion } from '../shared/types';

/** The delivery retry profile (the worker's configuration); see config.ts for the defaults' why. */
export function retryProfileOf(config: Config): DeliveryRetryProfile {
  return {
    initialIntervalMs: config.RETRY_INITIAL_INTERVAL_MS,
    backoffCoefficient: config.RETRY_BACKOFF_COEFFICIENT,
    maximumIntervalMs: config.RETRY_MAX_INTERVAL_MS,
    attemptTimeoutMs: config.DELIVERY_TIMEOUT_MS,
  };
}

export const PLAN_FIELDS = {
  _id: 1,
  name: 1,
  version: 1,
  payload_type: 1,
  filterLogic: 1,
  urls: 1,
  max_retry: 1,
} as const;

export type PlanDoc = {
  _id: unknown;
  name: string;
  version?: string | null;
  payload_type?: string | null;
  filterLogic?: string | null;
  urls?: { url?: string | null; method?: string | null; disabled_at?: Date | null; rate_per_second?: number | null }[];
  max_retry?: number | null;
};

export function toPlan(doc: PlanDoc): WebhookPlan {
  return {
    id: String(doc._id),
    name: doc.name,
    version: (doc.version ?? 'v2') as WebhookVersion,
    payloadType: (doc.payload_type ?? 'standard') as PayloadType,
    filterLogic: doc.filterLogic ?? null,
    // Keys and origins only: the plan is recorded in history, and a URL may be a credential.
    // An auto-disabled URL gets no new deliveries.
    targets: (doc.urls ?? [])
      .filter((u) => u.url && !u.disabled_at)
      .map((u) => urlTargetOf(u.url as string, (u.method ?? 'POST').toUpperCase() as HttpMethod, u.rate_per_second)),
    maxRetry: Math.max(0, doc.max_retry ?? 3),
  };
}

/** Events of one type for one organization, planned at once, share their read (shared, not mutated). */
const subscribedReads = new SharedReads<PlanDoc[]>();

/**
 * The organization's enabled automatic webhooks subscribed to this event type (v2 by its
 * `event.type`, v1 by the v1 name of the four incident events), without secrets, header values,
 * mail addresses or URLs, plus the worker's retry profile. Read-only, so retried freely. The
 * documents read stay in this worker for a moment (src/delivery/recentWebhooks.ts).
 */
export async function planEventDeliveries(
  organizationId: string,
  eventType: string,
  config: Config,
): Promise<DeliveryPlan> {
  const v1Type = v1EventTypeFor(eventType);
  const bySubscription: Record<string, unknown>[] = [{ version: 'v2', 'triggers.event_type': eventType }];
  if (v1Type) bySubscription.push({ version: 'v1', 'triggers.event_type': v1Type });
  const docs = await subscribedReads.read(`${organizationId}\n${eventType}`, () =>
    Webhook.find(
      { organizationId, enabled: true, trigger_type: 'automatic', $or: bySubscription },
      { ...PLAN_FIELDS, ...PLANNED_FIELDS },
    )
      .sort({ _id: 1 })
      .lean(),
  );
  // The first attempts and renders of this event take these instead of reading them again.
  keepPlanned(organizationId, docs);
  const webhooks = docs.map((d) => toPlan(d as PlanDoc)).filter((w) => w.targets.length > 0);
  return { webhooks, retry: retryProfileOf(config) };
}

export function webhookActivities(deps: { config: Config }) {
  return {
    /** See planEventDeliveries; kept for runs started before events were recorded by their run. */
    async planEventDeliveries(input: { organizationId: string; eventType: string }): Promise<DeliveryPlan> {
      return planEventDeliveries(input.organizationId, input.eventType, deps.config);
    },

    /**
     * The one webhook a manual fire is for (no secrets, header values, mail addresses or URLs), or
     * none when it is gone or disabled, plus the retry profile. Read-only, so retried freely.
     */
    async planManualFire(input: { organizationId: string; webhookId: string }): Promise<DeliveryPlan> {
      const found = await findOwnedById(Webhook, input.webhookId, input.organizationId, { ...PLAN_FIELDS, enabled: 1 });
      const doc = found?.enabled ? found : null;
      return { webhooks: doc ? [toPlan(doc as PlanDoc)] : [], retry: retryProfileOf(deps.config) };
    },
  };
}
