/**
 * A small structured logger: one JSON line per entry on stderr. Callers pass ids and counts, never
 * secrets, header values or bodies.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(component: string, level: LogLevel = 'info'): Logger {
  const write = (at: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[at] < LEVELS[level]) return;
    const extra = fields && 'err' in fields ? { ...fields, err: describeError(fields.err) } : fields;
    process.stderr.write(
      JSON.stringify({ time: new Date().toISOString(), level: at, component, msg, ...extra }) + '\n',
    );
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function describeError(err: unknown): unknown {
  return err instanceof Error ? { message: err.message, stack: err.stack } : err;
}
