/**
 * Admission control and deadlines: the API degrades instead of falling over. Requests past the
 * bound on work in flight are answered 503 at once; a request not answered within
 * REQUEST_DEADLINE_MS is answered 503 then, whatever it still waits for (a frozen store, a slow
 * Temporal), and its late answer is dropped. While more than MAX_EVENT_BACKLOG events wait for a
 * worker, or this process's worker starts on accepted events more than MAX_EVENT_LAG_MS after
 * acceptance and would start on a new one later than that too, event posts are refused before
 * their body is read, with a Retry-After that grows with the events waiting at producers
 * (./retryAdvice.ts). All carry Retry-After, so producers back off, and a repost of an event is
 * safe. Event posts and the other routes have separate bounds, so a storm of events never starves
 * reads of the logs.
 */
import type { RequestHandler, Response } from 'express';
import type { Config } from '../config';
import type { BacklogGauge } from '../events/backlog';
import type { EventLag } from '../events/lag';
import { requestsRefused } from '../metrics/registry';
import { runForRequest } from '../shared/requestScope';
import { RETRY_AFTER_SECONDS, errorBody } from './errors';
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

export function admissionControl(
  config: Pick<
    Config,
    | 'MAX_EVENT_REQUESTS_IN_FLIGHT'
    | 'MAX_REQUESTS_IN_FLIGHT'
    | 'REQUEST_DEADLINE_MS'
    | 'MAX_EVENT_BACKLOG'
    | 'MAX_EVENT_LAG_MS'
  >,
  gauges: { backlog?: BacklogGauge; eventLag?: EventLag } = {},
): RequestHandler {
  const { backlog, eventLag } = gauges;
  const inFlight = { events: 0, other: 0 };
  const eventRetryAdvice = new RetryAdvice();
  return (req, res, next) => {
    const kind = req.method === 'POST' && req.path === '/v3/events' ? 'events' : 'other';
    const refuse = (reason: 'backlog' | 'lag' | 'in_flight', message: string) => {
      requestsRefused.inc({ route: kind, reason });
      answerBusy(res, message, kind === 'events' ? eventRetryAdvice.refuse() : RETRY_AFTER_SECONDS);
    };
    // Refused before the body is even parsed: during a storm most posts end here, and cheaply.
    if (kind === 'events') {
      const behind = backlog?.current() ?? 0;
      if (config.MAX_EVENT_BACKLOG > 0 && behind > config.MAX_EVENT_BACKLOG) {
        return refuse('backlog', `deliveries are ${behind} events behind; try again shortly`);
      }
      const late = eventLag?.current() ?? 0;
      // Late now, and an event accepted now would be late too (see src/events/lag.ts).
      if (
        config.MAX_EVENT_LAG_MS > 0 &&
        late > config.MAX_EVENT_LAG_MS &&
        (eventLag?.expectedWaitMs() ?? 0) > config.MAX_EVENT_LAG_MS
      ) {
        return refuse('lag', `deliveries start ${late} ms after acceptance; try again shortly`);
      }
    }
    const bound = kind === 'events' ? config.MAX_EVENT_REQUESTS_IN_FLIGHT : config.MAX_REQUESTS_IN_FLIGHT;
    if (inFlight[kind] >= bound) return refuse('in_flight', 'the service is at capacity; try again shortly');
    if (kind === 'events') eventRetryAdvice.letIn();
    inFlight[kind]++;
    const deadline = setTimeout(() => {
      if (res.headersSent) return;
      requestsRefused.inc({ route: kind, reason: 'deadline' });
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
}

/**
 * What a route does after this runs knows whether its request was answered at the deadline (see
 * src/shared/requestScope.ts). Placed after the body is parsed: the parser resumes the chain from
 * the socket's callbacks, outside any scope entered before it.
 */
export const scopeToRequest: RequestHandler = (_req, res, next) =>
  runForRequest(() => res.locals.answeredAtDeadline === true, next);
