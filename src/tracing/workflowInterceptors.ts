/**
 * Workflow interceptors module (bundled with the workflows, see WORKFLOW_INTERCEPTOR_MODULES):
 * Temporal's OpenTelemetry workflow interceptors, for a run only when its start carried a trace
 * context, i.e. the API that started it traces. Otherwise every call goes straight through: no
 * span, no sink call, the same commands as without this module (old histories replay unchanged).
 * Deterministic: the header is part of the run's history.
 */
import type {
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

type OtelWorkflowModule = typeof import('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** The header Temporal's OpenTelemetry interceptors carry the trace context in. */
const TRACE_HEADER = '_tracer-data';

type Interceptor = object;
type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;

/** Calls `of()`'s method when it is there (the run is traced), else `next`. */
function gated<T extends Interceptor>(methods: readonly string[], of: () => T | undefined): T {
  const forward: Record<string, Method> = {};
  for (const name of methods) {
    forward[name] = (input, next) => {
      const target = of() as Record<string, Method> | undefined;
      return target?.[name] ? target[name].call(target, input, next) : next(input);
    };
  }
  return forward as unknown as T;
}

const INBOUND = ['handleSignal', 'handleUpdate', 'validateUpdate', 'handleQuery'] as const;
const OUTBOUND = [
  'scheduleActivity',
  'scheduleLocalActivity',
  'startNexusOperation',
  'startChildWorkflowExecution',
  'continueAsNew',
  'signalWorkflow',
  'getLogAttributes',
  'getMetricTags',
] as const;
const INTERNALS = ['dispose'] as const;

export const interceptors = (): WorkflowInterceptors => {
  let traced: WorkflowInterceptors | undefined;
  const inbound = gated<WorkflowInboundCallsInterceptor>(INBOUND, () => traced?.inbound?.[0]);
  inbound.execute = (input: WorkflowExecuteInput, next) => {
    if (!(TRACE_HEADER in input.headers)) return next(input);
    // Required here, not imported above: every run evaluates its bundle's modules afresh, and
    // OpenTelemetry's 117 modules made up half of that work for runs that are not traced.
    /* eslint-disable-next-line @typescript-eslint/no-require-imports */
    const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors') as OtelWorkflowModule;
    traced = otel.interceptors();
    return traced.inbound![0].execute!(input, next);
  };
  return {
    inbound: [inbound],
    outbound: [gated<WorkflowOutboundCallsInterceptor>(OUTBOUND, () => traced?.outbound?.[0])],
    internals: [gated<WorkflowInternalsInterceptor>(INTERNALS, () => traced?.internals?.[0])],
  };
};
