/**
 * The logs API's view of attempts: one shape for a finished attempt (its log row) and one in flight
 * (an attempt mark, no row yet), merged newest first and cut to a page. Pure: the reads are in
 * ./read.ts.
 */
import type { InferSchemaType } from 'mongoose';
import { AttemptInFlight, attemptLogId, type DeliveryLogFields } from '../db/deliveryLog';

export type LogRow = DeliveryLogFields & { _id: unknown };
export type InFlightRow = InferSchemaType<typeof AttemptInFlight.schema>;

/** One attempt as the API lists it; `row` null: in flight (outcome `in_progress`, no answer yet). */
export function attemptView(attempt: InFlightRow | LogRow, row: LogRow | null) {
  return {
    // An attempt in flight has the id its log row will have.
    id: row ? String(row._id) : String(attemptLogId(attempt.deliveryId, attempt.url, attempt.attempt, attempt.round)),
    timestamp: attempt.timestamp,
    webhook_id: attempt.webhookId,
    delivery_id: attempt.deliveryId,
    event_id: attempt.eventId,
    event_type: attempt.eventType,
    url: attempt.url,
    method: attempt.method,
    attempt: attempt.attempt,
    max_attempts: attempt.maxAttempts,
    outcome: row ? row.outcome : 'in_progress',
    status: row?.status ?? null,
    error: row?.error ?? null,
    duration_ms: row?.durationMs ?? null,
    request: {
      headers: Object.fromEntries((attempt.requestHeaders ?? []).map((h) => [h.name, h.value])),
      body: attempt.requestBody,
    },
    response: row ? { body: row.responseBody ?? null } : null,
    trigger: attempt.trigger,
    /** A redelivery's round (`redeliver`, `recover` rows), else null. */
    round: attempt.round ?? null,
    /** The Temporal run that made the attempt (null for test sends). */
    workflow_id: attempt.workflowId ?? null,
    test: row ? row.test : attempt.trigger === 'test',
  };
}
export type AttemptView = ReturnType<typeof attemptView>;

/** Newest first; at equal times by id, descending (MongoDB's `_id: -1` for log rows). */
export function newestFirst(a: { timestamp: Date; id: string }, b: { timestamp: Date; id: string }): number {
  return b.timestamp.getTime() - a.timestamp.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * The page [offset, offset + limit) of finished rows and attempts in flight merged newest first.
 * `rows` must hold the newest `offset + limit` finished rows (or all there are): marks only ever
 * push rows down the list, so no later row can enter the page.
 */
export function mergePage(rows: LogRow[], inFlight: InFlightRow[], offset: number, limit: number): AttemptView[] {
  return [...rows.map((r) => attemptView(r, r)), ...inFlight.map((m) => attemptView(m, null))]
    .sort(newestFirst)
    .slice(offset, offset + limit);
}
