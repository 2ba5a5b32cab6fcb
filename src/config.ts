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

const schema = z.object({
  PORT: int(3000),
  HOST: z.string().default('127.0.0.1'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('webhooks'),
  MONGODB_URI: z.string().default('mongodb://127.0.0.1:27017/hookrelay'),
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
  /** Where the web console links a delivery's workflow run (the Temporal Web UI). */
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type Config = z.infer<typeof schema>;

/** Every variable the service reads (the README's table and docker-compose use only these). */
export const CONFIG_KEYS = Object.keys(schema.shape) as (keyof Config)[];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
