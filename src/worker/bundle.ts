/**
 * The workflow bundle as the worker runs it (the workflows and the interceptor modules), in one
 * place for the worker, `npm run build`, the tests and the benchmarks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../tracing/worker';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Modules evaluated once per workflow sandbox instead of once per run: the SDK's workflow API, our
 * workflows and the interceptor module, with all they import. Evaluating them afresh for every run
 * was about a sixth of a replay's CPU. Safe only while none of them keeps state at module scope
 * (ours hold constants, functions and activity proxies that find the current run when called): a
 * module-level cache here would be shared by every run in the sandbox.
 */
export const WORKFLOW_PRELOAD_MODULES = ['@temporalio/workflow', WORKFLOWS_PATH, ...WORKFLOW_INTERCEPTOR_MODULES];

/** Webpack's warnings and errors only. */
const logger: BundleOptions['logger'] = {
  trace() {},
  debug() {},
  info() {},
  warn: console.warn,
  error: console.error,
  log() {},
};

/** Bundles the workflows with the interceptor modules, as the worker runs them. */
export async function bundleWorkflows(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    preloadModules: WORKFLOW_PRELOAD_MODULES,
    logger,
  });
  return code;
}

/** Writes that bundle into `dir` for workers started there (HOOKRELAY_WORKFLOW_BUNDLE); its path. */
export async function writeWorkflowBundle(dir: string): Promise<string> {
  const file = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(file, await bundleWorkflows());
  return file;
}
