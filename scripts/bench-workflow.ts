/**
 * `npm run bench:workflow`: the workflow side of an event's cost, without servers. Bundles the
 * workflows as the worker does (interceptor modules included) and replays a recorded event run
 * (test/fixtures/histories) N times through Temporal's replayer, printing CPU per run: creating a
 * run's sandbox, evaluating its bundle's modules, and its activations. Low noise, so a change to
 * workflow code or its imports shows here before it drowns in `npm run bench`'s figures.
 *
 *   npm run bench:workflow -- [--runs 300] [--rounds 5] [--history event-delivered-two-urls]
 *
 * Prints the median and the best of the rounds: on a shared VM single rounds vary by ±25%.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../src/worker/bundle';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const RUNS = Number(arg('runs', '300'));
const ROUNDS = Number(arg('rounds', '5'));
const HISTORY = arg('history', 'event-delivered-two-urls');
const WARM_UP = 50;

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const file = path.resolve(__dirname, '../test/fixtures/histories', `${HISTORY}.json`);
  const { workflowId, history } = JSON.parse(fs.readFileSync(file, 'utf8'));
  const code = await bundleWorkflows();
  const replay = async (count: number, offset: number) => {
    const runs = Array.from({ length: count }, (_, i) => ({ workflowId: `${workflowId}-${offset + i}`, history }));
    for await (const result of Worker.runReplayHistories({ workflowBundle: { code } }, runs)) {
      if (result.error) throw result.error;
    }
  };
  await replay(WARM_UP, 0);
  const perRun: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const cpu0 = process.cpuUsage();
    await replay(RUNS, WARM_UP + round * RUNS);
    const cpu = process.cpuUsage(cpu0);
    perRun.push((cpu.user + cpu.system) / 1000 / RUNS);
  }
  perRun.sort((a, b) => a - b);
  console.log(
    `hookrelay bench:workflow: ${ROUNDS} rounds of ${RUNS} replays of ${HISTORY} (bundle ${Math.round(code.length / 1024)} KiB)\n` +
      `  CPU per run   median ${perRun[Math.floor(ROUNDS / 2)].toFixed(2)} ms, best ${perRun[0].toFixed(2)} ms ` +
      `(all threads of this process; rounds ${perRun.map((v) => v.toFixed(1)).join(', ')})`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
