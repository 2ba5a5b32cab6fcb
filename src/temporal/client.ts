import {
  Client,
  Connection,
  isGrpcDeadlineError,
  isGrpcServiceError,
  type ClientInterceptors,
  type ConnectionOptions,
  type WorkflowClientInterceptor,
} from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { Config } from '../config';
import { refuseIfAnsweredAtDeadline } from '../shared/requestScope';
import { clientTracingInterceptors } from '../tracing/client';

/** What both connections (the client's Connection and the worker's NativeConnection) take. */
export interface TemporalConnectionOptions extends Pick<ConnectionOptions, 'tls' | 'metadata'> {
  address: string;
  apiKey?: string;
}

/** The SDK's environment-configuration variables this service passes on (validated in config.ts). */
const ENV_CONFIG_KEYS = [
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
] as const satisfies readonly (keyof Config)[];

/**
 * How to reach Temporal: plain gRPC by default; TLS, mTLS and API keys (Temporal Cloud) through the
 * SDK's environment configuration (@temporalio/envconfig): the TEMPORAL_TLS_* and TEMPORAL_API_KEY
 * variables, or a profile of the TOML file TEMPORAL_CONFIG_FILE names. An API key turns TLS on
 * unless TEMPORAL_TLS=false. The address and namespace are always TEMPORAL_ADDRESS and
 * TEMPORAL_NAMESPACE (with this service's defaults), and the TOML file is read only when named, so
 * a developer's ~/.config/temporalio/temporal.toml never redirects `npm start` or the tests.
 */
export function temporalConnectionOptions(config: Config): TemporalConnectionOptions {
  const env: Record<string, string> = {};
  for (const key of ENV_CONFIG_KEYS) {
    const value = config[key];
    if (value !== undefined) env[key] = value;
  }
  const { connectionOptions } = loadClientConnectConfig({
    overrideEnvVars: env,
    disableFile: !env.TEMPORAL_CONFIG_FILE,
  });
  const { tls, apiKey, metadata } = connectionOptions;
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(tls !== undefined && { tls }),
    ...(apiKey !== undefined && { apiKey }),
    ...(metadata && Object.keys(metadata).length > 0 && { metadata }),
  };
}

/** No workflow starts for an API request already answered 503 at its deadline (src/shared/requestScope.ts). */
const noStartAfterDeadline: WorkflowClientInterceptor = {
  start(input, next) {
    refuseIfAnsweredAtDeadline();
    return next(input);
  },
  signalWithStart(input, next) {
    refuseIfAnsweredAtDeadline();
    return next(input);
  },
};

/** Every client's interceptors: the deadline rule above, and tracing when it is on. */
export function clientInterceptors(): ClientInterceptors {
  return { workflow: [noStartAfterDeadline, ...clientTracingInterceptors()] };
}

/** A Temporal client for the API and scripts; the worker has its own NativeConnection. */
export async function connectTemporalClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: 5000 });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, interceptors: clientInterceptors() });
}

/** Waits until the server answers for the namespace (the dev server opens its port a little early). */
export async function waitForTemporal(
  target: string | TemporalConnectionOptions,
  namespace = 'default',
  timeoutMs = 60_000,
): Promise<void> {
  const options = typeof target === 'string' ? { address: target } : target;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ ...options, connectTimeout: 2000 });
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
  throw new Error(`Temporal at ${options.address} did not become ready: ${String(lastError)}`);
}

/** gRPC status UNAVAILABLE: the server cannot be reached (the client gave up retrying). */
/**
 * gRPC statuses that say "not now" rather than "never": cancelled, deadline exceeded, resource
 * exhausted (the server's rate limits under a storm), aborted, unavailable.
 */
const GRPC_PASSING = new Set([1, 4, 8, 10, 14]);

/**
 * Temporal did not answer in time, is overloaded or cannot be reached: worth trying again (the
 * API answers 503). Under a storm the client wraps such causes in a ServiceError ("Failed to
 * start Workflow"), which used to end as a 500.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  if (isGrpcDeadlineError(err)) return true;
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && GRPC_PASSING.has(e.code)) return true;
  }
  return false;
}
