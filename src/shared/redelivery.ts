/**
 * What redeliver and recover share between the API, their workflows and activities: inputs,
 * progress, workflow ids. Pure data; workflow code imports this file.
 *
 * A redelivery sends one (delivery, URL) again under the delivery's own `webhook-id`, so a
 * receiver that did process it dedupes. Its attempts are logged under a `round` of their own, so
 * their log row ids never collide with the original attempts' (see attemptLogId).
 */

export type RedeliveryTrigger = 'redeliver' | 'recover';

/** Input of `redeliveryWorkflow`: one (delivery, URL) sent again with the webhook's current configuration. */
export interface RedeliveryInput {
  organizationId: string;
  webhookId: string;
  /** The event the delivery belonged to: with the webhook it gives the same `webhook-id`. */
  eventId: string;
  /** The URL by its key (see UrlTarget): history never holds the URL itself. */
  urlKey: string;
  trigger: RedeliveryTrigger;
  /** Unique per redelivery (a redeliver's own id, or the recover id): part of its log row ids. */
  round: string;
}

/** Input of `recoverWorkflow`; `cursor` and `progress` carry a run's work over continue-as-new. */
export interface RecoverInput {
  organizationId: string;
  webhookId: string;
  recoverId: string;
  /** ISO times: failed final outcomes with since <= timestamp < until are sent again. */
  since: string;
  until: string;
  /** Redeliveries started per second at most (RECOVER_DELIVERIES_PER_SECOND when requested). */
  perSecond: number;
  cursor?: RecoverCursor | null;
  progress?: RecoverProgress;
}

/** Where paging through the log got to: the last row read, by (timestamp, id) ascending. */
export interface RecoverCursor {
  timestamp: number;
  id: string;
}

/** One delivery (to one URL) whose final outcome in the window was `failed`. */
export interface RecoverCandidate {
  deliveryId: string;
  eventId: string;
  eventType: string;
  urlKey: string;
}

export interface RecoverPage {
  candidates: RecoverCandidate[];
  /** Where the next page starts; null: the window is read to its end. */
  next: RecoverCursor | null;
}

export type RecoverState = 'running' | 'completed';

/** A recover's progress, in its memo (`progress`) and as `GET …/recover/{id}` answers it. */
export interface RecoverProgress {
  /** Failed deliveries found so far (pages read). */
  found: number;
  /** Redeliveries started. */
  started: number;
  /** Found but already started under this recover before (not sent twice). */
  skipped: number;
  /** Pages of the log read. */
  pages: number;
  /** true once the whole window has been read. */
  scanned: boolean;
}

export const emptyRecoverProgress = (): RecoverProgress => ({
  found: 0,
  started: 0,
  skipped: 0,
  pages: 0,
  scanned: false,
});

/** The memo key holding RecoverProgress (plus the window) on a recover run. */
export const RECOVER_MEMO = 'recover';

/**
 * Workflow task timeout of redeliveries and recovers, as for events (src/events/accept.ts): a
 * redelivery's first attempt runs inside its first task, and a task timed out is run again (the
 * request sent twice); on a starved machine (a bench beside other loads) a recover's tasks took
 * 8-10 s and timed out again and again at Temporal's default 10 s.
 */
export const REDELIVERY_WORKFLOW_TASK_TIMEOUT = '30s';

/** Candidates read per page (one activity each). */
export const RECOVER_PAGE_SIZE = 200;

/**
 * A redeliver of one (delivery, URL): one at a time (a second while it runs is refused), any
 * number one after another.
 */
export const redeliverWorkflowId = (organizationId: string, deliveryId: string, urlKey: string): string =>
  `redeliver-${organizationId}-${deliveryId}-${urlKey}`;

/** A recover request: its id is a hash of (org, webhook, since, until), so a repeat finds the same run. */
export const recoverWorkflowId = (organizationId: string, recoverId: string): string =>
  `recover-${organizationId}-${recoverId}`;

/** One redelivery of a recover: at most one per (recover, delivery, URL), however often paging meets it. */
export const recoverDeliveryWorkflowId = (recoverWorkflow: string, deliveryId: string, urlKey: string): string =>
  `${recoverWorkflow}-${deliveryId}-${urlKey}`;
