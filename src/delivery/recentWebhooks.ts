/**
 * The webhooks an event's plan has just read, kept in this worker for a moment so that the event's
 * first attempts and custom-payload renders, local activities of the same workflow task a few
 * milliseconds later, need not read them again (one store round trip less for each). Retries
 * always read afresh: they come later, and must see a webhook deleted, disabled or changed
 * meanwhile. What is kept never leaves
 * the process (secrets included); the plan recorded in history is made without them.
 */
import { RecentEntries } from '../cache/recentEntries';
import { findOwnedById } from '../db/byId';
import { Webhook } from '../db/webhook';
import type { DeliveryTrigger } from '../shared/delivery';

/** What an attempt reads of its webhook. */
export const ATTEMPT_FIELDS = { enabled: 1, urls: 1, headers: 1, secrets: 1 } as const;

/** What a plan reads beyond its own fields to keep: an attempt's, and the template a render needs. */
export const PLANNED_FIELDS = { ...ATTEMPT_FIELDS, custom_payload: 1 } as const;

/** As fresh as the plan's own decision: the attempts it starts run within this. */
const FRESH_MS = 2_000;
/** A bound on memory in a storm; the oldest go first. */
const MAX_KEPT = 5_000;

type AttemptWebhook = NonNullable<Awaited<ReturnType<typeof readAttemptWebhook>>>;

const kept = new RecentEntries<AttemptWebhook>(MAX_KEPT);
const keyOf = (organizationId: string, webhookId: string) => `${organizationId}/${webhookId}`;

/** The webhook as an attempt needs it, from the store. */
export function readAttemptWebhook(webhookId: string, organizationId: string) {
  return findOwnedById(Webhook, webhookId, organizationId, ATTEMPT_FIELDS);
}

/** Keeps what a plan read (documents read with PLANNED_FIELDS among their fields). */
export function keepPlanned(organizationId: string, docs: { _id: unknown }[], now = Date.now()): void {
  // Read with the organization in the filter, so each is this organization's.
  for (const doc of docs) kept.set(keyOf(organizationId, String(doc._id)), doc as AttemptWebhook, now);
}

/** Which step of a delivery wants its webhook: only an event's first local step follows its plan. */
export interface DeliveryStep {
  trigger?: DeliveryTrigger;
  isLocal: boolean;
  first: boolean;
}

/**
 * The webhook a plan read less than FRESH_MS ago, if this worker has it and the step runs right
 * after that plan: an event's first local step. Other triggers (a redelivery, a fire) plan nothing
 * kept here, and retries must read afresh.
 */
export function recentlyPlanned(
  step: DeliveryStep,
  organizationId: string,
  webhookId: string,
  now = Date.now(),
): AttemptWebhook | undefined {
  if (step.trigger !== 'event' || !step.isLocal || !step.first) return undefined;
  return kept.get(keyOf(organizationId, webhookId), FRESH_MS, now);
}
