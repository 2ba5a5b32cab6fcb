import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { activeTracing } from './setup';

/** Bundled with the workflows (at build, test and bench time, or by the worker at start). */
export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [require.resolve('./workflowInterceptors')];

/** What a sink of workflow spans takes when this worker does not trace: nothing is exported. */
const DROP_SPANS: InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }> = {
  exporter: { export: { fn: () => undefined, callDuringReplay: false } },
};

/**
 * The worker's share of tracing: activity spans (children of the workflow's span through the
 * activity's headers), and the sink that takes the workflows' spans out of their sandbox. Without
 * tracing, only a sink that drops spans, for runs started by an API that traces.
 */
export function workerTracingOptions(): Pick<WorkerOptions, 'sinks'> & {
  activityInterceptors?: NonNullable<WorkerOptions['interceptors']>['activity'];
} {
  const tracing = activeTracing();
  if (!tracing) return { sinks: DROP_SPANS };
  /* eslint-disable @typescript-eslint/no-require-imports */
  const otel =
    require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    sinks: { exporter: otel.makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
    activityInterceptors: [
      (ctx) => ({
        inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
  };
}
