import { Client, Connection, isGrpcDeadlineError, isGrpcServiceError } from '@temporalio/client';
import type { Config } from '../config';

/** A Temporal client for the API and scripts; the worker has its own NativeConnection. */
export async function connectTemporalClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: 5000 });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/** Waits until the server answers for the namespace (the dev server opens its port a little early). */
export async function waitForTemporal(address: string, namespace = 'default', timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal at ${address} did not become ready: ${String(lastError)}`);
}

/** gRPC status UNAVAILABLE: the server cannot be reached (the client gave up retrying). */
const GRPC_UNAVAILABLE = 14;

/** Temporal did not answer in time or cannot be reached: worth trying again (the API answers 503). */
export function isTemporalUnavailable(err: unknown): boolean {
  if (isGrpcDeadlineError(err)) return true;
  const cause = (err as { cause?: unknown } | null | undefined)?.cause ?? err;
  return isGrpcServiceError(cause) && cause.code === GRPC_UNAVAILABLE;
}
