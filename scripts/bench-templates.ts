/**
 * `npm run bench:templates`: the render time distribution of the template engine for the Slack
 * library template and for the largest library template. Every render gets a different event
 * (ids, messages, descriptions, tags, statuses vary), so no cache of results could answer.
 *
 * Sequential: one render at a time, timed as the caller sees it (JSON out, pipe round trip to an
 * evaluator process, evaluation, JSON back). Concurrent: the whole pool busy, for renders per second.
 * Options: RENDERS (default 2000 per template), POOL (default 2).
 */
import fs from 'node:fs';
import os from 'node:os';
import { sampleEvent } from '../src/payloads/samples';
import type { EventEnvelopeV2 } from '../src/shared/types';
import { createTemplateEngine, formatTemplateError, type TemplateEngine } from '../src/templates/engine';
import { libraryTemplate, libraryTemplates, type LibraryTemplate } from '../src/templates/library';

const RENDERS = Number(process.env.RENDERS ?? 2000);
const POOL = Number(process.env.POOL ?? 2);
const TYPES = ['incident.triggered', 'incident.acknowledged', 'incident.resolved', 'incident.reassigned'];
const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5', 'UNSET'];
const samples = TYPES.map((t) => sampleEvent(t));

/** The i-th distinct event: a different incident, message, description, tags and priority each time. */
function eventNo(i: number): EventEnvelopeV2 {
  const event = structuredClone(samples[i % samples.length]);
  const inc = event.data.resource_data;
  event.event.id = `bench-${i.toString(16).padStart(8, '0')}`;
  inc.id = `inc-${i}`;
  inc.message = `Error rate above ${i % 100}% on checkout-${i % 7} (${i})`;
  inc.description =
    i % 3 === 0 ? '' : `Alert ${i}: p99 latency ${(i * 7) % 1000} ms\nRunbook: https://runbooks.example.com/${i}`;
  inc.priority = PRIORITIES[i % PRIORITIES.length];
  inc.tags =
    i % 4 === 0
      ? null
      : {
          severity: { value: ['critical', 'high', 'low'][i % 3], color: '#f00' },
          run: { value: String(i), color: '' },
        };
  if (i % 5 === 0) delete inc.assigned_to;
  return event;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * CPU time (ms) of this process and its children still running (the evaluator processes), from
 * /proc on Linux; undefined elsewhere.
 */
function cpuMsWithChildren(): number | undefined {
  try {
    const own = process.cpuUsage();
    const tick = 1000 / 100; // USER_HZ
    let ms = (own.user + own.system) / 1000;
    for (const task of fs.readdirSync('/proc/self/task')) {
      for (const pid of fs.readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) {
        const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        ms += (Number(fields[11]) + Number(fields[12])) * tick; // utime, stime
      }
    }
    return ms;
  } catch {
    return undefined;
  }
}

async function sequential(engine: TemplateEngine, template: LibraryTemplate, offset: number) {
  const times: number[] = [];
  const cpu0 = cpuMsWithChildren();
  for (let i = 0; i < RENDERS; i++) {
    const event = eventNo(offset + i);
    const t0 = performance.now();
    const result = await engine.render(template['template-code'], event);
    times.push(performance.now() - t0);
    if (!result.ok) throw new Error(`${template.slug}: ${formatTemplateError(result.error)}`);
  }
  const cpu1 = cpuMsWithChildren();
  // CPU of the caller and the evaluators per render: unlike wall-clock times, it does not grow
  // when other processes keep the machine's cores busy.
  return { times, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / RENDERS };
}

async function concurrent(engine: TemplateEngine, template: LibraryTemplate, offset: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < RENDERS) {
      const result = await engine.render(template['template-code'], eventNo(offset + next++));
      if (!result.ok) throw new Error(`${template.slug}: ${formatTemplateError(result.error)}`);
    }
  };
  await Promise.all(Array.from({ length: POOL * 2 }, lane));
  return RENDERS / ((performance.now() - t0) / 1000);
}

function report(label: string, times: number[], cpuMs: number | undefined, throughput: number): void {
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const f = (ms: number) => ms.toFixed(2).padStart(7);
  console.log(`${label}: ${RENDERS} renders`);
  console.log(
    `  wall p50 ${f(quantile(sorted, 0.5))} ms  p95 ${f(quantile(sorted, 0.95))}  p99 ${f(quantile(sorted, 0.99))}` +
      `  max ${f(sorted[sorted.length - 1])}  mean ${f(mean)}`,
  );
  console.log(
    `  cpu per render ${cpuMs === undefined ? 'n/a' : `${cpuMs.toFixed(2)} ms`} | renders/s: sequential ${(1000 / mean).toFixed(0)}, pool of ${POOL} ${throughput.toFixed(0)}`,
  );
}

async function main(): Promise<void> {
  const slack = libraryTemplate('slack')!;
  const largest = libraryTemplates().reduce((a, b) => (b['template-code'].length > a['template-code'].length ? b : a));
  const engine = createTemplateEngine({ poolSize: POOL, timeoutMs: 5000 });
  const t0 = performance.now();
  await engine.ready();
  console.log(`engine ready in ${(performance.now() - t0).toFixed(0)} ms (build if needed, compile, start, warm up)`);
  console.log(
    `each render on a different event; times in ms; load average ${os.loadavg()[0].toFixed(2)} on ${os.availableParallelism()} cores\n`,
  );
  let offset = 0;
  for (const template of [slack, largest]) {
    const first = performance.now();
    await engine.render(template['template-code'], eventNo(offset++));
    const firstMs = performance.now() - first;
    const { times, cpuMs } = await sequential(engine, template, offset);
    offset += RENDERS;
    const throughput = await concurrent(engine, template, offset);
    offset += RENDERS;
    report(`${template.slug} (${template['template-code'].length} chars of Jsonnet)`, times, cpuMs, throughput);
    console.log(
      `  first render of this template ${firstMs.toFixed(1)} ms (parsed once, then cached per evaluator process)\n`,
    );
  }
  await engine.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
