import type { ChildProcess } from 'node:child_process';
/** Process lifecycle helpers shared by the entry points. */

/** Runs `cleanup` once on SIGINT/SIGTERM, then exits. */
export function onShutdown(cleanup: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    cleanup()
      .catch((err) => console.error('shutdown failed:', err))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/**
 * When started by `npm start`, exit if that parent disappears (even by SIGKILL), so no orphan
 * process keeps a port.
 */
export function exitWhenParentDies(): void {
  const parent = Number(process.env.HOOKRELAY_PARENT_PID);
  if (!parent) return;
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.kill(process.pid, 'SIGTERM');
    }
  }, 1000).unref();
}

/** SIGTERM a child process, SIGKILL it after `graceMs`, and resolve once it has exited. */
export function stopChildProcess(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
  });
}

const RESTART_FIRST_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 30_000;
/** A process that ran this long before dying is restarted after the first delay again. */
const RESTART_RESET_AFTER_MS = 60_000;

/**
 * How long to wait before starting a crashed process again: 1 s after its first crash or after it
 * ran a minute, else twice the last wait, up to 30 s (one that keeps dying is retried slower).
 */
export function restartDelay(lastDelayMs: number | undefined, ranForMs: number): number {
  if (lastDelayMs === undefined || ranForMs > RESTART_RESET_AFTER_MS) return RESTART_FIRST_DELAY_MS;
  return Math.min(lastDelayMs * 2, RESTART_MAX_DELAY_MS);
}
