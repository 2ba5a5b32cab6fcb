import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../../src/config';

const root = path.resolve(__dirname, '../../..');

/**
 * Installs the SDK's runtime as a worker process does, in a fresh process; its core's Tokio threads.
 * A new thread names itself once it runs, so on a busy machine the count is read when the first has
 * its name, and again half a second later (any others were spawned with it).
 */
function coreThreadsAfterInstall(env: NodeJS.ProcessEnv): number {
  const script = `
    const fs = require('node:fs');
    const { loadConfig } = require('./src/config.ts');
    const { installTemporalRuntime } = require('./src/worker/deliveryWorker.ts');
    installTemporalRuntime(loadConfig({ ...process.env, TEMPORAL_METRICS_PORT: '' }));
    const count = () => fs.readdirSync('/proc/self/task')
      .map((t) => { try { return fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8'); } catch { return ''; } })
      .filter((n) => n.startsWith('tokio-runtime')).length;
    const giveUpAt = Date.now() + 10_000;
    (function wait() {
      if (count() === 0 && Date.now() < giveUpAt) return setTimeout(wait, 20);
      setTimeout(() => console.log(count()), 500);
    })();
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, env, encoding: 'utf8' });
  return Number(out.trim().split('\n').pop());
}

const linux = process.platform === 'linux' ? describe : describe.skip;

linux('the Temporal SDK core runtime of a worker process', () => {
  const env = { ...process.env };
  delete env.TOKIO_WORKER_THREADS;

  test('when nothing is configured, then its Tokio runtime runs one worker thread', () => {
    expect(coreThreadsAfterInstall(env)).toBe(1);
  }, 30_000);

  test('when TOKIO_WORKER_THREADS says 2, then it runs two', () => {
    expect(coreThreadsAfterInstall({ ...env, TOKIO_WORKER_THREADS: '2' })).toBe(2);
  }, 30_000);

  test('when TOKIO_WORKER_THREADS is not a positive whole number, then the configuration is refused naming it', () => {
    expect(() => loadConfig({ TOKIO_WORKER_THREADS: '0' })).toThrow(/TOKIO_WORKER_THREADS/);
    expect(() => loadConfig({ TOKIO_WORKER_THREADS: 'two' })).toThrow(/TOKIO_WORKER_THREADS/);
  });
});
