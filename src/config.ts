import fs from 'node:fs';
import { z } from 'zod';

/**
 * The whole configuration, read from the environment and validated once at start.
 * The README's configuration table documents every variable here; keep them in step.
 */
const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
/** An optional variable set to "" counts as unset (compose files and shells write it so). */
const optional = <T extends z.ZodType>(type: T) => z.preprocess((v) => (v === '' ? undefined : v), type.optional());
/** Unset stays unset (not false): for TEMPORAL_TLS, unset means "on when an API key is set". */
const optionalBool = optional(z.enum(['true', 'false', '1', '0']));
const readableFile = optional(z.string().refine((p) => fs.existsSync(p), 'file not found'));

const schema = z.object({
  PORT: int(3000),
  HOST: z.string().default('127.0.0.1'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('webhooks'),
  // Temporal Cloud or any Temporal behind TLS: the SDK's environment configuration variables,
  // validated here, read by src/temporal/client.ts (address and namespace are the two above).
  TEMPORAL_API_KEY: optional(z.string()),
  TEMPORAL_TLS: optionalBool,
  TEMPORAL_TLS_CLIENT_CERT_PATH: readableFile,
  TEMPORAL_TLS_CLIENT_KEY_PATH: readableFile,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: readableFile,
  TEMPORAL_TLS_CLIENT_CERT_DATA: optional(z.string()),
  TEMPORAL_TLS_CLIENT_KEY_DATA: optional(z.string()),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: optional(z.string()),
  TEMPORAL_TLS_SERVER_NAME: optional(z.string()),
  TEMPORAL_CONFIG_FILE: readableFile,
  TEMPORAL_PROFILE: optional(z.string()),
  MONGODB_URI: z.string().default('mongodb://127.0.0.1:27017/hookrelay'),
  /**
   * The PostgreSQL under a FerretDB v1 store, for the logs page and retention (src/db/postgresDirect.ts).
   * npm start sets it for the embedded store; unset: those run as mongoose queries.
   */
  STORE_POSTGRES_URL: optional(z.string()),
  SMTP_URL: z.string().optional(),
  MAIL_FROM: z.string().default('hookrelay <webhooks@localhost>'),
  ALLOW_PRIVATE_TARGETS: bool,
  DELIVERY_TIMEOUT_MS: int(10_000, 1),
  RETRY_INITIAL_INTERVAL_MS: int(30_000, 1),
  RETRY_BACKOFF_COEFFICIENT: z.coerce.number().min(1).default(4),
  RETRY_MAX_INTERVAL_MS: int(6 * 60 * 60 * 1000, 1),
  RETRY_AFTER_CAP_MS: int(60 * 60 * 1000, 0),
  RESPONSE_BODY_LIMIT_BYTES: int(4096, 0),
  FAILURE_MAIL_WINDOW_MS: int(10 * 60 * 1000, 0),
  SECRET_ROTATION_GRACE_MS: int(24 * 60 * 60 * 1000, 0),
  TEMPLATE_TIMEOUT_MS: int(1000, 1),
  TEMPLATE_MAX_OUTPUT_BYTES: int(256 * 1024, 1),
  /** Evaluator processes rendering in parallel; 0 means min(2, cores). */
  TEMPLATE_POOL_SIZE: int(0, 0),
  TEMPLATE_MAX_MEMORY_MB: int(512, 16),
  /** Delivery logs, stored events and failure mails older than this are deleted; 0 keeps them forever. */
  // At most 100 years: beyond some 270,000 days the cutoff date is not a valid Date.
  DATA_RETENTION_DAYS: int(30, 0).pipe(z.number().max(36_500)),
  /** Answers of 401 one client address may get within AUTH_FAILURE_WINDOW_MS before it gets 429s; 0: no limit. */
  AUTH_FAILURE_LIMIT: int(20, 0),
  AUTH_FAILURE_WINDOW_MS: int(60_000, 1),
  /** How long a valid key's caller is remembered: a revoked key or changed role takes effect within it; 0: never. */
  AUTH_CACHE_TTL_MS: int(2_000, 0),
  /** Event posts being worked on at once; more are answered 503 with Retry-After at once. */
  MAX_EVENT_REQUESTS_IN_FLIGHT: int(256, 1),
  /** The same bound for every other route, so a storm of events never starves reads. */
  MAX_REQUESTS_IN_FLIGHT: int(128, 1),
  /** Workflow tasks waiting on the delivery task queue past which new events are refused (503); 0: no bound. */
  MAX_EVENT_BACKLOG: int(500, 0),
  /** A request not answered by then is answered 503 with Retry-After (under a producer's usual 5 s timeout). */
  REQUEST_DEADLINE_MS: int(4_000, 100),
  /** Redeliveries a recover starts per second at most (a receiver that was down gets a bounded catch-up). */
  RECOVER_DELIVERIES_PER_SECOND: int(20, 1).pipe(z.number().max(1000)),
  /** Where the web console links a delivery's workflow run (the Temporal Web UI). */
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

/** A client certificate without its key (or the reverse) would silently connect without one. */
const checked = schema.superRefine((c, ctx) => {
  const cert = c.TEMPORAL_TLS_CLIENT_CERT_PATH ?? c.TEMPORAL_TLS_CLIENT_CERT_DATA;
  const key = c.TEMPORAL_TLS_CLIENT_KEY_PATH ?? c.TEMPORAL_TLS_CLIENT_KEY_DATA;
  if (cert && !key) {
    ctx.addIssue({
      code: 'custom',
      path: ['TEMPORAL_TLS_CLIENT_KEY_PATH'],
      message: 'required with a client certificate',
    });
  }
  if (key && !cert) {
    ctx.addIssue({ code: 'custom', path: ['TEMPORAL_TLS_CLIENT_CERT_PATH'], message: 'required with a client key' });
  }
});

export type Config = z.infer<typeof schema>;

/** Every variable the service reads (the README's table and docker-compose use only these). */
export const CONFIG_KEYS = Object.keys(schema.shape) as (keyof Config)[];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = checked.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
