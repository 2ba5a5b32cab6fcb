import fs from 'node:fs';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { WORKFLOW_INTERCEPTOR_MODULES, workerTracingOptions } from '../tracing/worker';
import { WORKFLOW_PRELOAD_MODULES, WORKFLOWS_PATH } from './bundle';

/**
 * The prebuilt workflow bundle, if any: HOOKRELAY_WORKFLOW_BUNDLE (the tests make one per run), else
 * the one `npm run build` writes beside the compiled code (dist/workflow-bundle.js). Without one,
 * the worker bundles src/workflows with webpack at every start.
 */
function prebuiltBundle(): string | undefined {
  const beside = path.join(__dirname, '..', 'workflow-bundle.js');
  return process.env.HOOKRELAY_WORKFLOW_BUNDLE || (fs.existsSync(beside) ? beside : undefined);
}

/**
 * Workflow tasks a worker runs at once. A task holds its slot while its local first attempts wait
 * on receivers, and a start asks for its first task eagerly only while a slot is free: in a burst of
 * 5,000 on 2 cores, 200 slots started about 3,950 runs eagerly (the rest went through the task
 * queue, a poll, a history read and a dispatch more each), 500 nearly all (4,975-4,998), for 9% less
 * CPU per event.
 */
const WORKFLOW_TASK_SLOTS = 500;
/**
 * Local activities (first attempts, renders) a worker runs at once. 500 did no better than 200 in
 * bursts through a Jsonnet template (85-89 deliveries/s both, three pairs), and fewer bounds the
 * requests open to receivers and the renders queued at once. Tasks beyond it wait for a slot while
 * holding their own.
 */
const LOCAL_ACTIVITY_SLOTS = 200;

/** Worker options shared by the entry point, the tests and the benchmark. */
export function workerOptions(
  config: Config,
): Pick<
  WorkerOptions,
  'taskQueue' | 'namespace' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentLocalActivityExecutions'
> &
  Partial<Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle' | 'bundlerOptions' | 'interceptors' | 'sinks'>> {
  const bundle = prebuiltBundle();
  const { sinks, activityInterceptors } = workerTracingOptions();
  return {
    sinks,
    // A prebuilt bundle has the workflow interceptor modules in it already (scripts/build.ts).
    interceptors: {
      ...(!bundle && { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
      ...(activityInterceptors && { activity: activityInterceptors }),
    },
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    namespace: config.TEMPORAL_NAMESPACE,
    maxConcurrentWorkflowTaskExecutions: WORKFLOW_TASK_SLOTS,
    maxConcurrentLocalActivityExecutions: LOCAL_ACTIVITY_SLOTS,
    ...(bundle
      ? { workflowBundle: { codePath: bundle } }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: WORKFLOW_PRELOAD_MODULES } }),
  };
}
