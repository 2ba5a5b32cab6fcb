/**
 * What the delivery workflows, their activities and the API agree on: workflow inputs and
 * results, the plan of one webhook, and the retry profiles. Pure data and types; workflow code
 * imports this file.
 *
 * Workflow and activity inputs carry ids, payloads and compiled rules, never signing secrets,
 * header values, mail addresses or webhook URLs: the Temporal UI shows history in clear, so
 * activities load those themselves. Some URLs are credentials (Slack's incoming webhooks), so
 * history names a URL by a key and shows only its origin.
 */
import type { EventEnvelopeV2, HttpMethod, PayloadType, RunStatus, WebhookVersion } from './types';

/** Input of `eventDeliveryWorkflow`: one accepted event (its envelope with the org already set). */
export interface EventWorkflowInput {
  organizationId: string;
  envelope: EventEnvelopeV2;
  /**
   * When the API accepted the event (epoch ms), for the accept→first-attempt metric. Absent in
   * runs started before it was added: they are not measured.
   */
  acceptedAt?: number;
}

/** Input of `manualFireWorkflow`: one manual webhook fired for one incident. */
export interface ManualFireInput {
  organizationId: string;
  webhookId: string;
  /** The `incident.triggered`-shaped envelope of the incident's state when fired. */
  envelope: EventEnvelopeV2;
  /** When the API accepted the fire (epoch ms); see EventWorkflowInput.acceptedAt. */
  acceptedAt?: number;
}

/**
 * One URL of a webhook as history shows it. Activities find the URL again by its key among the
 * webhook's URLs; a key no longer there means the URL was removed.
 */
export interface UrlTarget {
  /** The first 16 hex digits of the URL's SHA-256: the same URL always has the same key. */
  key: string;
  method: HttpMethod;
  /** `scheme://host[:port]`: enough to tell receivers apart, never the path or query. */
  origin: string;
  /** The URL's `rate_limit.per_second`, when it has one: its attempts then wait for a slot. */
  ratePerSecond?: number;
}

/** What the workflows need to know about a webhook: no secrets, header values, mail addresses or URLs. */
export interface WebhookPlan {
  id: string;
  name: string;
  version: WebhookVersion;
  payloadType: PayloadType;
  /** Compiled json-logic (JSON text), or null for "every event". */
  filterLogic: string | null;
  targets: UrlTarget[];
  maxRetry: number;
}

/**
 * How deliveries are retried, from the worker's configuration (workflows cannot read the
 * environment, so the planning activity hands it over and history records it).
 */
export interface DeliveryRetryProfile {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** Timeout of one HTTP attempt; the activity's start-to-close timeout is above it. */
  attemptTimeoutMs: number;
}

export interface DeliveryPlan {
  webhooks: WebhookPlan[];
  retry: DeliveryRetryProfile;
}

/**
 * The first step of an event's run: the plan, or `repeat` for an event accepted long ago (its
 * run already forgotten by Temporal), which delivers nothing.
 */
export type EventPlan = ({ repeat: false } & DeliveryPlan) | { repeat: true; webhooks: []; retry: null };

/** Why a delivery runs: an event, a manual fire, or a redelivery (one, or as part of a recover). */
export type DeliveryTrigger = 'event' | 'manual' | 'redeliver' | 'recover';

/** Input of the `deliverAttempt` activity: one HTTP attempt of one (webhook, URL) delivery. */
export interface DeliveryRequest {
  organizationId: string;
  /** The event id (or manual fire id) the delivery belongs to; with the webhook id it makes webhook-id. */
  eventId: string;
  eventType: string;
  webhookId: string;
  /** The `UrlTarget` key: the activity reads the URL from the webhook. */
  urlKey: string;
  method: HttpMethod;
  /** The request body: the payload snapshot taken when the event was accepted. */
  body: string;
  /** max_retry + 1, for "attempt n of N" in the logs. */
  maxAttempts: number;
  trigger: DeliveryTrigger;
  /**
   * Set on a redelivery (see src/shared/redelivery.ts): its attempts are logged under this round,
   * so their row ids differ from the original attempts'. Absent on a first delivery.
   */
  round?: string;
  workflowId: string;
  /**
   * The delivery's attempt number of this activity's first attempt: 2 when attempt 1 ran as a
   * local activity and these are the retries. Absent means 1.
   */
  firstAttempt?: number;
  /**
   * Set on a local first attempt scheduled by a workflow task that ran before and did not finish
   * (its worker died): the earlier execution may have left an attempt in flight.
   */
  afterRetriedTask?: boolean;
  /** When the API accepted the event or fire (epoch ms), if the run knows: see EventWorkflowInput.acceptedAt. */
  acceptedAt?: number;
  /**
   * Rate-limited URLs: the rate, the slot's start (epoch ms) and the latest time the request may
   * start in it. The workflow wakes SLOT_LEAD_MS early and the attempt waits out the rest in the
   * worker, so dispatch delays don't make it late. One that is late all the same (a worker busier
   * than the lead) takes the next free slot instead: within the lead it waits for it, beyond it
   * it throws SlotMissed with that slot, sends nothing, and the workflow sleeps until it. So every
   * request starts inside a slot of its own, and no slot is given up for a new one at the end.
   */
  rateLimit?: { perSecond: number; slotAt?: number; startBy: number };
}

/** Input of the `handleDeliveryFailure` activity, after the last attempt for a URL failed. */
export interface DeliveryFailure extends Omit<DeliveryRequest, 'body'> {
  /** The last attempt's error, as the workflow saw it. */
  error: string;
  /** No attempt was made (the payload could not be built): log one failed row for it. */
  recordAttempt?: boolean;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'cancelled';

export interface UrlDeliveryResult {
  webhookId: string;
  target: UrlTarget;
  outcome: DeliveryOutcome;
  error?: string;
}

export interface DeliveryRunResult {
  status: RunStatus;
  deliveries: UrlDeliveryResult[];
}

/**
 * `patched()` id of the change that made each delivery's first attempt (and custom payload
 * rendering) a local activity; runs started before it replay on the old path.
 */
export const LOCAL_FIRST_ATTEMPT_PATCH = 'local-first-attempt';

/**
 * `patched()` id of per-URL rate limits: attempts to a URL with `ratePerSecond` claim a slot and
 * wait for it on a timer, each attempt its own activity. Asked only for such URLs.
 */
export const RATE_LIMIT_PATCH = 'url-rate-limit';

/** Error types the delivery activities throw as ApplicationFailure types. */
export const DELIVERY_CANCELLED = 'DeliveryCancelled';
export const DELIVERY_FAILED = 'DeliveryFailed';
export const RENDER_FAILED = 'PayloadRenderFailed';
export const SLOT_MISSED = 'RateLimitSlotMissed';

/**
 * How late after its slot a rate-limited attempt may still start: half a slot (at least 50 ms for
 * fast rates, so a busy worker is not turned away every time). Slots line up with the clock's
 * seconds, so a late start stays in its slot's second, and the half left over absorbs the transit
 * to the receiver: receipts per second stay within the limit plus one.
 */
export const slotToleranceMs = (perSecond: number): number => 0.5 * Math.max(1000 / perSecond, 100);

/**
 * How early a rate-limited attempt is dispatched before its slot: it then waits in the worker
 * (holding an activity slot, heartbeating) and sends on the dot. Covers the timer → workflow task
 * → activity task path on a busy machine, measured at up to a few hundred ms, with room to spare.
 */
export const SLOT_LEAD_MS = 2000;

/** What a SlotMissed failure carries: the slot the attempt took instead, and the wait until it. */
export interface SlotMissedDetails {
  slotAt: number;
  waitMs: number;
}

/**
 * Store and mail activities retry until they succeed, a little faster than deliveries: a brief
 * store or SMTP outage must not lose a log row or a failure mail, and they are idempotent.
 */
export const STORE_ACTIVITY_RETRY = {
  initialInterval: '200 ms',
  backoffCoefficient: 2,
  maximumInterval: '30 s',
} as const;
export const STORE_ACTIVITY_TIMEOUT = '30 s';
/** Transient SMTP failures are retried for about an hour (a permanent rejection is final at once). */
export const MAIL_ACTIVITY_RETRY = {
  initialInterval: '1 s',
  backoffCoefficient: 2,
  maximumInterval: '5 min',
  maximumAttempts: 20,
} as const;
export const MAIL_ACTIVITY_TIMEOUT = '1 min';

/**
 * An attempt's start-to-close timeout is the HTTP timeout plus this margin for its store work
 * before and after the call. Generous on purpose: a timeout after the request was answered makes
 * Temporal send it again, and a busy store can take seconds. A dead worker is noticed sooner than
 * this: through the workflow task's timeout for a local first attempt, and through missed
 * heartbeats (ATTEMPT_HEARTBEAT_TIMEOUT_MS) for the later ones.
 */
export const ATTEMPT_TIMEOUT_MARGIN_MS = 60_000;

/** A regular delivery attempt heartbeats while it runs; this long without one, its worker is gone. */
export const ATTEMPT_HEARTBEAT_TIMEOUT_MS = 15_000;

/**
 * Above this many (webhook, URL) deliveries, an event fans out through one child workflow per
 * webhook, so no single history grows past Temporal's limits.
 */
export const INLINE_DELIVERY_LIMIT = 10;

/** The final status of a run from its deliveries. */
export function runStatusOf(deliveries: UrlDeliveryResult[]): RunStatus {
  if (deliveries.length === 0) return 'no_match';
  const delivered = deliveries.filter((d) => d.outcome === 'delivered').length;
  if (delivered === deliveries.length) return 'delivered';
  return delivered === 0 ? 'failed' : 'partially_failed';
}

/** Manual fires are their own workflows, one per fire. */
export const manualFireWorkflowId = (organizationId: string, webhookId: string, fireId: string): string =>
  `manual-${organizationId}-${webhookId}-${fireId}`;

/** A per-webhook child of an event workflow. */
export const webhookChildWorkflowId = (parentWorkflowId: string, webhookId: string): string =>
  `${parentWorkflowId}-webhook-${webhookId}`;
