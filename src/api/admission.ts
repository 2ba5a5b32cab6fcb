/**
 * Admission control and deadlines: the API degrades instead of falling over. Requests past the
 * bound on work in flight are answered 503 at once; a request not answered within
 * REQUEST_DEADLINE_MS is answered 503 then, whatever it still waits for (a frozen store, a slow
 * Temporal), and its late answer is dropped. While more than MAX_EVENT_BACKLOG events wait for a
 * worker, event posts are refused before their body is read. While this process's worker starts on
 * accepted events more than MAX_EVENT_LAG_MS after acceptance and would start on a new one later
 * than that too, they are refused once their event id is known: while new events come slower than
 * runs start, a repost of an event refused here before (for lag or at the deadline; a refusal before
 * the body knows no id) is held to MAX_REPOST_LAG_MS instead, so events posted for the first time
 * go first (./newEventsFirst.ts); a new event refused then (the worker stalled) is told the usual
 * wait and stays new. After a storm, producers still hold the events it refused, and
 * draining them keeps the service busy for a minute or more; new events then wait behind at most
 * MAX_REPOST_LAG_MS of them, not behind all of them. Refusals carry a Retry-After that grows with
 * the events waiting at producers (./retryAdvice.ts), so producers back off, and a repost of an
 * event is safe. Event posts and the other routes have separate bounds, so a storm of events never
 * starves reads of the logs.
 */
import type { RequestHandler, Response } from 'express';
import type { Config } from '../config';
import type { BacklogGauge } from '../events/backlog';
import type { EventLag } from '../events/lag';
import { requestsRefused } from '../metrics/registry';
import { runForRequest } from '../shared/requestScope';
import { RETRY_AFTER_SECONDS, errorBody } from './errors';
import { NewEventsFirst } from './newEventsFirst';
import { RefusedEvents } from './refusedEvents';
import { RetryAdvice } from './retryAdvice';

function answerBusy(res: Response, message: string, retryAfterSeconds = RETRY_AFTER_SECONDS): void {
  res.status(503).set('Retry-After', String(retryAfterSeconds)).json(errorBody(503, message));
}

/** After the deadline's answer, whatever the route still sends is dropped. */
function silence(res: Response): void {
  const done = () => res;
  res.json = done;
  res.send = done;
  res.status = done;
  res.set = done as Response['set'];
}

export interface Admission {
  /** Before bodies are parsed: the bounds on work in flight and on the event backlog, and deadlines. */
  beforeBody: RequestHandler;
  /** Once bodies are parsed: event posts past the lag bound, new events first. */
  afterBody: RequestHandler;
}

const isEventPost = (req: { method: string; path: string }) => req.method === 'POST' && req.path === '/v3/events';

export function admissionControl(
  config: Pick<
    Config,
    | 'MAX_EVENT_REQUESTS_IN_FLIGHT'
    | 'MAX_REQUESTS_IN_FLIGHT'
    | 'REQUEST_DEADLINE_MS'
    | 'MAX_EVENT_BACKLOG'
    | 'MAX_EVENT_LAG_MS'
    | 'MAX_REPOST_LAG_MS'
  >,
  gauges: { backlog?: BacklogGauge; eventLag?: EventLag } = {},
): Admission {
  const { backlog, eventLag } = gauges;
  const inFlight = { events: 0, other: 0 };
  const eventRetryAdvice = new RetryAdvice();
  const newEventsFirst = new NewEventsFirst();
  const repostLagMs = Math.min(config.MAX_REPOST_LAG_MS || config.MAX_EVENT_LAG_MS, config.MAX_EVENT_LAG_MS);
  const refuse = (
    res: Response,
    kind: 'events' | 'other',
    reason: 'backlog' | 'lag' | 'repost' | 'in_flight',
    message: string,
    retryAfterSeconds = kind === 'events' ? eventRetryAdvice.refuse() : RETRY_AFTER_SECONDS,
  ) => {
    requestsRefused.inc({ route: kind, reason });
    answerBusy(res, message, retryAfterSeconds);
  };

  const beforeBody: RequestHandler = (req, res, next) => {
    const kind = isEventPost(req) ? 'events' : 'other';
    // Refused before the body is even parsed: cheap, whatever the storm.
    if (kind === 'events') {
      const behind = backlog?.current() ?? 0;
      if (config.MAX_EVENT_BACKLOG > 0 && behind > config.MAX_EVENT_BACKLOG) {
        return refuse(res, kind, 'backlog', `deliveries are ${behind} events behind; try again shortly`);
      }
    }
    const bound = kind === 'events' ? config.MAX_EVENT_REQUESTS_IN_FLIGHT : config.MAX_REQUESTS_IN_FLIGHT;
    if (inFlight[kind] >= bound) return refuse(res, kind, 'in_flight', 'the service is at capacity; try again shortly');
    inFlight[kind]++;
    const deadline = setTimeout(() => {
      if (res.headersSent) return;
      requestsRefused.inc({ route: kind, reason: 'deadline' });
      // An event post answered now starts nothing (src/shared/requestScope.ts): its producer's
      // next post of it is a repost. Known only once its body was read (afterBody).
      newEventsFirst.refusedNow(res.locals.eventKey as string | undefined);
      answerBusy(res, `no answer within ${config.REQUEST_DEADLINE_MS} ms; try again shortly`);
      silence(res);
      res.locals.answeredAtDeadline = true;
    }, config.REQUEST_DEADLINE_MS);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      inFlight[kind]--;
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };

  // After the body, for its event id: reading and parsing a small body costs little next to
  // answering, and without the id a repost cannot be told from a new event.
  const afterBody: RequestHandler = (req, res, next) => {
    if (!isEventPost(req)) return next();
    const key = RefusedEvents.keyOf(req.headers.authorization, (req.body as { event?: { id?: unknown } })?.event?.id);
    res.locals.eventKey = key;
    const holds = repostLagMs < config.MAX_EVENT_LAG_MS;
    const startsPerSecond = eventLag?.startsPerSecond() ?? 0;
    const heldBack = holds && newEventsFirst.holdsBack(key, startsPerSecond);
    const limit = heldBack ? repostLagMs : config.MAX_EVENT_LAG_MS;
    const late = eventLag?.current() ?? 0;
    // Late now, and an event accepted now would be late too (see src/events/lag.ts).
    if (config.MAX_EVENT_LAG_MS > 0 && late > limit && (eventLag?.expectedWaitMs() ?? 0) > limit) {
      const message = `deliveries start ${late} ms after acceptance${heldBack ? ', and new events go first' : ''}; try again shortly`;
      // A new event refused after a storm, when new events alone make no queue: the worker
      // stalled. It is no part of the backlog producers hold, so it is told the usual wait, not the
      // storm's, and not remembered: its repost is new again, and goes first.
      if (!heldBack && holds && newEventsFirst.stalled(startsPerSecond)) {
        return refuse(res, 'events', 'lag', message, RETRY_AFTER_SECONDS);
      }
      newEventsFirst.refusedNow(key);
      return refuse(res, 'events', heldBack ? 'repost' : 'lag', message);
    }
    newEventsFirst.letIn(key);
    eventRetryAdvice.letIn();
    next();
  };

  return { beforeBody, afterBody };
}

/**
 * What a route does after this runs knows whether its request was answered at the deadline (see
 * src/shared/requestScope.ts). Placed after the body is parsed: the parser resumes the chain from
 * the socket's callbacks, outside any scope entered before it.
 */
export const scopeToRequest: RequestHandler = (_req, res, next) =>
  runForRequest(() => res.locals.answeredAtDeadline === true, next);
