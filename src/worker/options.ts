import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config';

/**
 * Worker options shared by the entry point, the tests and the benchmark. A prebuilt workflow
 * bundle (HOOKRELAY_WORKFLOW_BUNDLE, made once per test run) saves a webpack build per worker.
 */
export function workerOptions(
  config: Config,
): Pick<WorkerOptions, 'taskQueue' | 'namespace'> & Partial<Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>> {
  const bundle = process.env.HOOKRELAY_WORKFLOW_BUNDLE;
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    namespace: config.TEMPORAL_NAMESPACE,
    ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../workflows') }),
  };
}
