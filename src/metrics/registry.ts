/**
 * The service's Prometheus metrics (prom-client), one registry per process: in the combined
 * process of `npm start` the API's /metrics shows the worker's metrics too. Label values are
 * bounded enums and catalog event types only: never URLs, secrets, organization or event ids
 * (privacy, and one series per id would grow without end).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'hookrelay_' });

/** Receivers usually answer in tens of ms; the tail up to the 10 s default delivery timeout matters. */
const ATTEMPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Accept to first attempt: milliseconds when idle, seconds to minutes behind a backlog. */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const RENDER_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export const eventsAccepted = new Counter({
  name: 'hookrelay_events_accepted_total',
  help: 'Events answered 202 by POST /v3/events, by catalog event type and whether it repeated an accepted event',
  labelNames: ['event_type', 'duplicate'] as const,
  registers: [metricsRegistry],
});

export const eventRunsStarted = new Counter({
  name: 'hookrelay_event_runs_started_total',
  help:
    "Event runs this process started, by whether the run's first task came straight back to its worker " +
    '(eager: yes) or went through the task queue',
  labelNames: ['eager'] as const,
  registers: [metricsRegistry],
});

export const deliveryAttempts = new Counter({
  name: 'hookrelay_delivery_attempts_total',
  help: 'HTTP delivery attempts (test sends included), by logged outcome and the status class of the answer (none: no answer)',
  labelNames: ['outcome', 'status_class'] as const,
  registers: [metricsRegistry],
});

export const attemptDuration = new Histogram({
  name: 'hookrelay_delivery_attempt_duration_seconds',
  help: 'Duration of one HTTP delivery attempt, from sending to the answer (or the error)',
  labelNames: ['status_class'] as const,
  buckets: ATTEMPT_BUCKETS,
  registers: [metricsRegistry],
});

export const acceptToFirstAttempt = new Histogram({
  name: 'hookrelay_accept_to_first_attempt_seconds',
  help: 'From the API accepting an event (or a manual fire) to the start of the first attempt of each of its deliveries',
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

export const deliveriesRetrying = new Gauge({
  name: 'hookrelay_deliveries_retrying',
  help:
    'Deliveries waiting for or running a retry: +1 when an attempt ends "retrying", -1 when the next attempt ' +
    'ends or is cancelled. Kept by each worker from its own attempts: sum it over all workers',
  registers: [metricsRegistry],
});

export const failureMails = new Counter({
  name: 'hookrelay_failure_mails_total',
  help: 'Failure notifications after a delivery failed for good, by result (sent, stored, throttled, no_recipients, rejected, url_removed, error)',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

export const templateRenderDuration = new Histogram({
  name: 'hookrelay_template_render_duration_seconds',
  help: 'Rendering one custom payload (Jsonnet), by result (ok, error)',
  labelNames: ['result'] as const,
  buckets: RENDER_BUCKETS,
  registers: [metricsRegistry],
});

export const storeErrors = new Counter({
  name: 'hookrelay_store_errors_total',
  help:
    'Store errors: a try that failed and is retried in process (retried), one that ended the retries ' +
    '(gave_up), or an API answer of 503 because of the store (answered_503)',
  labelNames: ['stage'] as const,
  registers: [metricsRegistry],
});

export const groupedInserts = new Histogram({
  name: 'hookrelay_store_insert_batch_size',
  help: 'Documents per insert command of the grouped inserts (event records, attempt log rows), by collection: above 1 when inserts queue behind one in flight',
  labelNames: ['collection'] as const,
  buckets: [1, 2, 4, 8, 16, 32, 64, 100],
  registers: [metricsRegistry],
});

export const temporalErrors = new Counter({
  name: 'hookrelay_temporal_errors_total',
  help: 'Calls to Temporal that failed, by operation (start_workflow, readiness, backlog)',
  labelNames: ['operation'] as const,
  registers: [metricsRegistry],
});

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'none';

/** The class of an HTTP status; `none` when there was no answer (timeout, refused, blocked). */
export function statusClassOf(status: number | null | undefined): StatusClass {
  if (typeof status !== 'number' || status < 200 || status >= 600) return 'none';
  return `${Math.floor(status / 100)}xx` as StatusClass;
}

export const requestsRefused = new Counter({
  name: 'hookrelay_requests_refused_total',
  help:
    'Requests answered 503 by admission control, by route (events: POST /v3/events; other) and reason ' +
    '(backlog: MAX_EVENT_BACKLOG, lag: MAX_EVENT_LAG_MS, repost: MAX_REPOST_LAG_MS, in_flight: the bound on work in flight, deadline: REQUEST_DEADLINE_MS)',
  labelNames: ['route', 'reason'] as const,
  registers: [metricsRegistry],
});

export const eventRetryAfter = new Gauge({
  name: 'hookrelay_event_retry_after_seconds',
  help: 'The longest Retry-After a refused event post is given now (each gets half of it to all of it): about how long the events waiting at producers will wait',
  registers: [metricsRegistry],
});
