import fs from 'node:fs';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config';

/**
 * The prebuilt workflow bundle, if any: HOOKRELAY_WORKFLOW_BUNDLE (the tests make one per run), else
 * the one `npm run build` writes beside the compiled code (dist/workflow-bundle.js). Without one,
 * the worker bundles src/workflows with webpack at every start.
 */
function prebuiltBundle(): string | undefined {
  const beside = path.join(__dirname, '..', 'workflow-bundle.js');
  return process.env.HOOKRELAY_WORKFLOW_BUNDLE || (fs.existsSync(beside) ? beside : undefined);
}

/** Worker options shared by the entry point, the tests and the benchmark. */
export function workerOptions(
  config: Config,
): Pick<WorkerOptions, 'taskQueue' | 'namespace'> & Partial<Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>> {
  const bundle = prebuiltBundle();
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    namespace: config.TEMPORAL_NAMESPACE,
    ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../workflows') }),
  };
}
