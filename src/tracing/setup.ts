/**
 * OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set: one tracer provider per
 * process exporting spans over OTLP/HTTP (JSON) to <endpoint>/v1/traces. Off, nothing here is
 * loaded and no span is made. Spans carry route patterns, workflow and activity types, never URLs,
 * secrets or bodies.
 */
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config';

export interface ActiveTracing {
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

let active: ActiveTracing | undefined;

/** The process's tracing, when started. */
export function activeTracing(): ActiveTracing | undefined {
  return active;
}

/**
 * Starts tracing for this process if the configuration asks for it: registers the global tracer
 * provider, the AsyncLocalStorage context manager (a request's span follows its awaits into the
 * Temporal client) and the W3C trace-context propagator (a producer's `traceparent` is the parent).
 */
export function startTracing(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>,
  defaultServiceName: string,
): ActiveTracing | undefined {
  if (active || !config.OTEL_EXPORTER_OTLP_ENDPOINT) return active;
  // Loaded here, so a process without tracing does not even load the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeTracerProvider } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { Resource } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME ?? defaultServiceName });
  const exporter = new OTLPTraceExporter({
    url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`,
  });
  const spanProcessor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  active = {
    spanProcessor,
    resource,
    async shutdown() {
      active = undefined;
      await provider.shutdown();
    },
  };
  return active;
}

/** Flushes and stops tracing (no-op when off). */
export async function stopTracing(): Promise<void> {
  await active?.shutdown();
}
