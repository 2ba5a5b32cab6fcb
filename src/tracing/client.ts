import type { WorkflowClientInterceptor } from '@temporalio/client';
import { activeTracing } from './setup';

/**
 * The Temporal client's tracing interceptors: with tracing on, starting a workflow makes a span
 * and passes its context to the run in a header; off, none.
 */
export function clientTracingInterceptors(): WorkflowClientInterceptor[] {
  if (!activeTracing()) return [];
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { OpenTelemetryWorkflowClientInterceptor } =
    require('@temporalio/interceptors-opentelemetry/lib/client') as typeof import('@temporalio/interceptors-opentelemetry/lib/client');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return [new OpenTelemetryWorkflowClientInterceptor()];
}
