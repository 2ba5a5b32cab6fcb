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
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/**
 * A duration in milliseconds, written `5d`, `12h`, `30m`, `90s`, `250ms` or a bare number of
 * milliseconds (the unit of every `*_MS` variable); "" counts as unset.
 */
export function parseDurationMs(v: string): number | undefined {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(v.trim());
  return m ? Number(m[1]) * DURATION_UNIT_MS[m[2] ?? 'ms'] : undefined;
}
const duration = (def: string) =>
  z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .default(def)
      .transform((v, ctx) => {
        const ms = parseDurationMs(v);
        if (ms !== undefined && Number.isSafeInteger(ms)) return ms;
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 5d, 12h, 90s, or milliseconds' });
        return z.NEVER;
      }),
  );

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
  /**
   * Egress proxy for deliveries and test sends (http:// or https://, credentials in the URL allowed,
   * never logged): CONNECT tunnels for https targets, absolute-form requests for http ones.
   */
  DELIVERY_PROXY_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// proxy URL' })),
  /** Hosts reached without the proxy: comma-separated names, `.suffix`es or `*`, optionally `:port` (as NO_PROXY). */
  DELIVERY_NO_PROXY: z.string().default(''),
  DELIVERY_TIMEOUT_MS: int(10_000, 1),
  RETRY_INITIAL_INTERVAL_MS: int(30_000, 1),
  RETRY_BACKOFF_COEFFICIENT: z.coerce.number().min(1).default(4),
  RETRY_MAX_INTERVAL_MS: int(6 * 60 * 60 * 1000, 1),
  RETRY_AFTER_CAP_MS: int(60 * 60 * 1000, 0),
  RESPONSE_BODY_LIMIT_BYTES: int(4096, 0),
  FAILURE_MAIL_WINDOW_MS: int(10 * 60 * 1000, 0),
  SECRET_ROTATION_GRACE_MS: int(24 * 60 * 60 * 1000, 0),
  /**
   * A webhook URL whose deliveries have all failed for this long (and at least
   * AUTO_DISABLE_MIN_FAILURES of them) is disabled, as Svix does after 5 days; 0 turns it off.
   */
  AUTO_DISABLE_AFTER: duration('5d'),
  /** So that a URL that gets one event a week is not disabled after one or two failures. */
  AUTO_DISABLE_MIN_FAILURES: int(10, 1),
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
  /**
   * Where the API and a worker share a process (npm start): new events are refused (503) while the
   * worker starts on accepted ones more than this many ms after acceptance; 0: no bound.
   */
  MAX_EVENT_LAG_MS: int(1000, 0),
  /**
   * The same bound for a repost of an event this process refused before, while new events come
   * slower than runs start (src/api/newEventsFirst.ts): events posted for the first time go first,
   * so after a storm they wait behind this much of the storm's reposts, not behind all of them.
   * Shorter: new events sooner, the storm's own events later; 50 brought new events back to
   * normal after a storm in the machine's slowest phase, where 100 did not (docs/benchmarks.md).
   * 0: reposts are held to MAX_EVENT_LAG_MS like new events.
   */
  MAX_REPOST_LAG_MS: int(50, 0),
  /**
   * Eager starts take a free workflow slot at once, ahead of runs already waiting in the task
   * queue: in a storm those wait seconds (the p99 tail). Above 0: while an event accepted here has
   * waited this many ms for its first step, new events start through the queue, behind it. Shorter
   * storm tails for less burst throughput (docs/benchmarks.md); 0: always eager where possible.
   * With several processes on one task queue, an event another one's worker took counts as waiting
   * here for a minute (src/events/lag.ts): meant for the one-process embedded default.
   */
  EAGER_START_QUEUE_WAIT_MS: int(0, 0),
  /**
   * A request not answered by then is answered 503 with Retry-After, well under a producer's usual
   * 5 s timeout: a saturated process fires the deadline late (storm on a slow 2-core machine: 210
   * of 26,604 answers past 5 s at 4,000 ms, 24 of 12,821 at 2,500 ms).
   */
  REQUEST_DEADLINE_MS: int(2_500, 100),
  /**
   * New connections the API accepts per turn of its event loop (one per copy of its listening
   * descriptor, src/api/acceptPerTurn.ts). A saturated process turns its loop a few times a second;
   * at 1 a storm's burst of new connections waited seconds unanswered in the kernel's queue.
   */
  API_ACCEPTS_PER_TURN: int(32, 1).pipe(z.number().max(1024)),
  /** Redeliveries a recover starts per second at most (a receiver that was down gets a bounded catch-up). */
  RECOVER_DELIVERIES_PER_SECOND: int(20, 1).pipe(z.number().max(1000)),
  /** Where the web console links a delivery's workflow run (the Temporal Web UI). */
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  /**
   * The Temporal UI's stack trace of a running workflow: a source-mapped trace for every promise the
   * workflow makes, costing more than the rest of its run. Read by the patched SDK
   * (patches/@temporalio+worker+*.patch) in the workflow thread, which turns them on for `true`
   * only; validated here, so that a `1` is refused rather than silently ignored.
   */
  WORKFLOW_STACK_TRACES: optional(z.enum(['true', 'false'])),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** When set, GET /metrics (API and worker) requires `Authorization: Bearer <token>`. */
  METRICS_TOKEN: optional(z.string()),
  /** Port of a worker-only process's /metrics (on HOST); 0: none. The combined process serves it on the API. */
  WORKER_METRICS_PORT: int(9464, 0).pipe(z.number().max(65_535)),
  /**
   * Worker threads of the Temporal SDK core's Tokio runtime (its native code reads the variable when
   * a worker process installs the runtime). One by default: see installTemporalRuntime.
   */
  TOKIO_WORKER_THREADS: int(1, 1),
  /** Port (on HOST) of the Temporal SDK's own worker metrics in Prometheus format; empty: off. */
  TEMPORAL_METRICS_PORT: z
    .string()
    .default('9465')
    .refine((v) => v === '' || (/^\d+$/.test(v) && Number(v) > 0 && Number(v) <= 65_535), 'must be a port or empty'),
  /** OTLP/HTTP collector base URL (spans go to <url>/v1/traces); unset: no tracing, at no cost. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optional(z.url()),
  /** The traces' service.name; default hookrelay-api / hookrelay-worker / hookrelay (combined). */
  OTEL_SERVICE_NAME: optional(z.string()),
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
