import type { RequestHandler } from 'express';
import { activeTracing } from './setup';

/**
 * One server span per API request when tracing is on (a pass-through otherwise), named by the
 * matched route pattern (`POST /v3/events`), never the path with its ids. A producer's W3C
 * `traceparent` header makes it a child of the producer's trace.
 */
export function traceRequests(): RequestHandler {
  if (!activeTracing()) return (_req, _res, next) => next();
  /* eslint-disable @typescript-eslint/no-require-imports */
  const otel = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const tracer = otel.trace.getTracer('hookrelay-api');
  return (req, res, next) => {
    const parent = otel.propagation.extract(otel.context.active(), req.headers);
    const span = tracer.startSpan(
      `${req.method} request`,
      { kind: otel.SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
      parent,
    );
    res.on('finish', () => {
      const route = req.route?.path === undefined ? undefined : `${req.baseUrl}${String(req.route.path)}`;
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: otel.SpanStatusCode.ERROR });
      span.end();
    });
    otel.context.with(otel.trace.setSpan(parent, span), next);
  };
}
