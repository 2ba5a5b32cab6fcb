import type { Config } from '../config';
import type { Logger } from '../logger';

export interface ActivityDeps {
  config: Config;
  logger: Logger;
}

/**
 * Every activity the worker registers, built once with its dependencies. Workflows type their
 * proxies with `ReturnType<typeof createActivities>` through a type-only import.
 */
export function createActivities(_deps: ActivityDeps) {
  return {};
}

export type Activities = ReturnType<typeof createActivities>;
