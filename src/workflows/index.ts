// Every workflow the worker runs; the worker's `workflowsPath` points here.
export {};
