/**
 * `npm run bench -- --storm R`: an incident storm against a running stack. A producer offers 3×R
 * events/s for S seconds, then R/3 for S more, open loop (events keep coming whatever the answers),
 * and reposts an event on 503 or no answer within 5 s, after Retry-After (or 1 s). Meanwhile a
 * prober reads /healthz and the webhooks list twice a second. Reports how long answers took,
 * reposts, lost deliveries, extra copies, deliveries reported failed or mailed, latency per 10 s
 * of the run (from first offer, and from acceptance), when it was back to normal for events
 * offered after the storm, when the last of the storm's own events arrived, and the events let in
 * per second during the storm against what delivering those within one phase needs.
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DeliveryLog } from '../../src/db/deliveryLog';
import { StoredEvent } from '../../src/db/event';
import { FailureMail } from '../../src/db/mail';
import { deliveryIdOf } from '../../src/delivery/signing';
import { sampleEvent } from '../../src/payloads/samples';
import { descendantPids } from './processCpu';

interface Receipts {
  get(key: string): { at: number; count: number } | undefined;
  readonly size: number;
  values(): IterableIterator<{ at: number; count: number }>;
}

export interface StormOptions {
  api: string;
  key: string;
  organizationId: string;
  /** Webhook ids in receiver path order (/hook/0, /hook/1…). */
  webhookIds: string[];
  receipts: Receipts;
  /** The sustainable rate R, in events/s. */
  rate: number;
  /** Length of each phase. */
  seconds: number;
  /** Freeze the store (SIGSTOP, then SIGCONT) for this many seconds, starting halfway through the storm phase. */
  freezeStoreSeconds?: number;
}

const ANSWER_LIMIT_MS = 5000;
/** Latency counted as normal again: offered→receipt p50 at most this (the paced p99 target). */
const NORMAL_P50_MS = 250;
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/**
 * The kernel's counters of connections it could not queue for accept (the API's event loop too busy
 * to take them) and of connection attempts sent again: machine-wide, so read with nothing else running.
 */
function tcpCounters(): Record<string, number> {
  const lines = readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('TcpExt:'));
  const [names, values] = lines.map((l) => l.split(/\s+/).slice(1));
  const all = Object.fromEntries(names.map((n, i) => [n, Number(values[i])]));
  return Object.fromEntries(['ListenOverflows', 'ListenDrops', 'TCPSynRetrans'].map((n) => [n, all[n] ?? 0]));
}

/** The API's longest event-loop delay since the last read (prom-client resets it on each scrape). */
async function apiLoopDelayMaxMs(api: string): Promise<number> {
  const res = await fetch(`${api}/metrics`, { signal: AbortSignal.timeout(ANSWER_LIMIT_MS) }).catch(() => null);
  const text = res?.ok ? await res.text() : '';
  const m = /^hookrelay_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

function post(agent: http.Agent, url: string, body: string, key: string) {
  return new Promise<{ status: number; retryAfter?: string; failure?: string }>((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        timeout: ANSWER_LIMIT_MS,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
      },
    );
    // No answer within the limit: counted as status 0, and the producer posts again.
    let noAnswer = '';
    req.on('timeout', () => {
      // Which socket it waited on tells a connection never made from a request the API did not answer.
      noAnswer = `no answer (${req.socket?.connecting ? 'never connected' : req.reusedSocket ? 'kept-alive socket' : 'new socket'})`;
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ status: 0, failure: noAnswer || (err.code ?? err.message) }),
    );
    req.end(body);
  });
}

export async function runStorm(o: StormOptions): Promise<{ report: string[]; delivered: number; ok: boolean }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const runId = crypto.randomBytes(3).toString('hex');
  const schedule: number[] = [];
  for (let t = 0; t < o.seconds * 1000; t += 1000 / (3 * o.rate)) schedule.push(t);
  for (let t = o.seconds * 1000; t < 2 * o.seconds * 1000; t += 3000 / o.rate) schedule.push(t);

  const answerMs: number[] = [];
  const statuses = new Map<number, number>();
  let reposts = 0;
  let overLimit = 0;
  /** Why answers missed the limit: no answer, a connection error (by code), or answered late. */
  const overLimitCauses = new Map<string, number>();
  let missingRetryAfter = 0;
  /** Per 10 s of the run, by when answered: events let in, refused, the Retry-After given, answers over the limit. */
  type AnswerWindow = { accepted: number; refused: number; retryAfter: number[]; overLimit: number };
  const answerWindows = new Map<number, AnswerWindow>();
  /** Per 10 s of the run: the producer's own and the API's longest event-loop delay. */
  const loopDelayMaxMs = new Map<number, { producer: number; api: number }>();
  const producerLoop = monitorEventLoopDelay({ resolution: 10 });
  producerLoop.enable();
  const tcpBefore = tcpCounters();
  /** Per event index: when it was scheduled (first offered), when it was accepted, after how many refusals. */
  const acceptedAt = new Map<number, { offered: number; accepted: number; refusals: number }>();
  const probes = { healthz: [] as number[], list: [] as number[], failed: 0 };
  let probing = true;
  const prober = (async () => {
    while (probing) {
      for (const [name, path] of [
        ['healthz', '/healthz'],
        ['list', '/v3/extensions/event-webhooks'],
      ] as const) {
        const t = performance.now();
        const res = await fetch(`${o.api}${path}`, {
          headers: { authorization: `Bearer ${o.key}` },
          signal: AbortSignal.timeout(ANSWER_LIMIT_MS),
        }).catch(() => null);
        if (!res?.ok) probes.failed++;
        await res?.body?.cancel();
        probes[name].push(performance.now() - t);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();

  const t0 = performance.now();
  let freezing: NodeJS.Timeout | undefined;
  if (o.freezeStoreSeconds) {
    freezing = setTimeout(
      () => {
        const pids = descendantPids(/ferretdb|mongod\b/);
        console.error(`storm: freezing the store (pids ${pids.join(', ')}) for ${o.freezeStoreSeconds} s`);
        for (const pid of pids) process.kill(pid, 'SIGSTOP');
        setTimeout(() => {
          for (const pid of pids) process.kill(pid, 'SIGCONT');
          console.error('storm: store thawed');
        }, o.freezeStoreSeconds! * 1000);
      },
      (o.seconds * 1000) / 2,
    );
  }
  const progress = setInterval(async () => {
    const window = Math.round((performance.now() - t0) / 10_000) - 1;
    const producer = producerLoop.max / 1e6;
    producerLoop.reset();
    loopDelayMaxMs.set(window, { producer, api: await apiLoopDelayMaxMs(o.api) });
    const at = ((performance.now() - t0) / 1000).toFixed(0);
    console.error(
      `storm: ${at} s, ${acceptedAt.size} of ${schedule.length} events accepted, ${o.receipts.size} delivered`,
    );
  }, 10_000);
  await Promise.all(
    schedule.map(async (at, i) => {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + at - performance.now())));
      const event = sampleEvent('incident.triggered');
      event.event.id = `storm-${runId}-${i}`;
      event.data.resource_data.id = `incident-${runId}-${i}`;
      const body = JSON.stringify(event);
      for (let tries = 0; ; tries++) {
        if (tries) reposts++;
        const sent = performance.now();
        const res = await post(agent, `${o.api}/v3/events`, body, o.key);
        const took = performance.now() - sent;
        answerMs.push(took);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const aw = Math.floor((performance.now() - t0) / 10_000);
        const answerWindow = answerWindows.get(aw) ?? { accepted: 0, refused: 0, retryAfter: [], overLimit: 0 };
        answerWindows.set(aw, answerWindow);
        if (took > ANSWER_LIMIT_MS || res.status === 0) {
          overLimit++;
          answerWindow.overLimit++;
          const cause = res.failure ?? 'answered after 5 s';
          overLimitCauses.set(cause, (overLimitCauses.get(cause) ?? 0) + 1);
        }
        if (res.status === 202) {
          answerWindow.accepted++;
          acceptedAt.set(i, { offered: t0 + at, accepted: performance.now(), refusals: tries });
          return;
        }
        answerWindow.refused++;
        if (res.retryAfter) answerWindow.retryAfter.push(Number(res.retryAfter));
        if (res.status === 503 && !res.retryAfter) missingRetryAfter++;
        const wait = res.retryAfter ? Number(res.retryAfter) * 1000 : 1000;
        await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random())));
      }
    }),
  );
  clearTimeout(freezing);
  const postedFor = (performance.now() - t0) / 1000;
  const expected = acceptedAt.size * o.webhookIds.length;
  // Until everything arrived, or nothing did for a minute (what is missing then counts as lost).
  let last = o.receipts.size;
  let lastChange = performance.now();
  while (o.receipts.size < expected && performance.now() - lastChange < 60_000) {
    await new Promise((r) => setTimeout(r, 500));
    if (o.receipts.size !== last) [last, lastChange] = [o.receipts.size, performance.now()];
  }
  await new Promise((r) => setTimeout(r, 3000)); // late copies
  clearInterval(progress);
  producerLoop.disable();
  const tcpAfter = tcpCounters();
  probing = false;
  await prober;
  agent.destroy();

  // By the event's scheduled time: offered→receipt shows the producer's wait too (refusals and
  // reposts), accept→receipt only the service's own backlog.
  const windows = new Map<
    number,
    { offered: number[]; accepted: number[]; firstStep: number[]; events: number; refusedFirst: number }
  >();
  // When each run took its first step (it records the event), on the same clock as performance.now().
  const firstStepAt = new Map<string, number>();
  for (const e of await StoredEvent.find({ organizationId: o.organizationId }, { eventId: 1, receivedAt: 1 }).lean()) {
    firstStepAt.set(e.eventId, e.receivedAt.getTime() - performance.timeOrigin);
  }
  let received = 0;
  // When the last of the events offered during the storm arrived: the backlog producers held.
  const stormEnd = t0 + o.seconds * 1000;
  let stormEventsDoneAt = -Infinity;
  for (const [i, { offered, accepted, refusals }] of acceptedAt) {
    const firstStep = firstStepAt.get(`storm-${runId}-${i}`);
    const w = Math.floor((offered - t0) / 10_000);
    const window = windows.get(w) ?? { offered: [], accepted: [], firstStep: [], events: 0, refusedFirst: 0 };
    windows.set(w, window);
    window.events++;
    if (refusals > 0) window.refusedFirst++;
    o.webhookIds.forEach((webhookId, j) => {
      const r = o.receipts.get(`${deliveryIdOf(o.organizationId, `storm-${runId}-${i}`, webhookId)} /hook/${j}`);
      if (!r) return;
      received++;
      if (offered < stormEnd) stormEventsDoneAt = Math.max(stormEventsDoneAt, r.at);
      window.offered.push(r.at - offered);
      window.accepted.push(r.at - accepted);
      if (j === 0 && firstStep !== undefined) window.firstStep.push(firstStep - accepted);
    });
  }
  const extra = [...o.receipts.values()].reduce((n, r) => n + r.count - 1, 0);
  const failedRows = await DeliveryLog.countDocuments({ organizationId: o.organizationId, outcome: 'failed' });
  const retryingRows = await DeliveryLog.countDocuments({ organizationId: o.organizationId, outcome: 'retrying' });
  const mails = await FailureMail.countDocuments({ organizationId: o.organizationId });
  const sortedAnswers = [...answerMs].sort((a, b) => a - b);
  const lost = expected - received;
  const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
  const probeLine = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `p50 ${fmt(pct(s, 50))} ms, max ${fmt(s[s.length - 1])} ms`;
  };
  // Back to normal: the first 10 s window after the storm's end from which every later window's
  // offered→receipt p50 is normal again.
  const afterStorm = [...windows]
    .filter(([w]) => w * 10 >= o.seconds)
    .sort((a, b) => a[0] - b[0])
    .map(([w, { offered }]) => ({
      w,
      p50: pct(
        [...offered].sort((x, y) => x - y),
        50,
      ),
    }));
  let normalFrom: number | undefined;
  for (let k = afterStorm.length - 1; k >= 0 && afterStorm[k].p50 <= NORMAL_P50_MS; k--) normalFrom = afterStorm[k].w;
  const backToNormal =
    normalFrom === undefined
      ? `not by the schedule's end (offered→receipt p50 ${fmt(afterStorm[afterStorm.length - 1]?.p50 ?? NaN)} ms in its last 10 s)`
      : `${normalFrom * 10 - o.seconds}–${normalFrom * 10 + 10 - o.seconds} s after the storm's end (events offered from then on: offered→receipt p50 ≤ ${NORMAL_P50_MS} ms)`;
  // What the producers hold at the storm's end is drained at (let in − R/3): back within one phase
  // needs a rate let in of at least 5/3 R (docs/benchmarks.md).
  const letInDuringStorm =
    [...answerWindows].filter(([w]) => w * 10 < o.seconds).reduce((n, [, a]) => n + a.accepted, 0) / o.seconds;
  const report = [
    `hookrelay storm: ${3 * o.rate}/s for ${o.seconds} s, then ${(o.rate / 3).toFixed(1)}/s for ${o.seconds} s (${schedule.length} events, ${o.webhookIds.length} webhook(s))${o.freezeStoreSeconds ? `, store frozen ${o.freezeStoreSeconds} s from ${o.seconds / 2} s` : ''}; posting took ${postedFor.toFixed(0)} s`,
    `  answers                ${answerMs.length} (${[...statuses].map(([s, n]) => `${s || 'none'}: ${n}`).join(', ')}); p50 ${fmt(pct(sortedAnswers, 50))} ms, p99 ${fmt(pct(sortedAnswers, 99))} ms, max ${fmt(sortedAnswers[sortedAnswers.length - 1])} ms`,
    `  over 5 s or unanswered ${overLimit}${overLimit ? ` (${[...overLimitCauses].map(([c, n]) => `${c}: ${n}`).join(', ')})` : ''}; 503 without Retry-After ${missingRetryAfter}; reposts ${reposts}`,
    `  kernel (machine-wide)  ${Object.entries(tcpAfter)
      .map(([n, v]) => `${n} +${v - tcpBefore[n]}`)
      .join(', ')}`,
    `  probes during storm    /healthz ${probeLine(probes.healthz)}; webhooks list ${probeLine(probes.list)}; failed ${probes.failed}`,
    `  lost deliveries        ${lost} of ${expected}`,
    `  extra copies           ${extra} (${((100 * extra) / Math.max(1, received)).toFixed(2)} % of deliveries); attempts logged retrying ${retryingRows}`,
    `  reported failed        ${failedRows} log rows, ${mails} failure mails`,
    `  back to normal         ${backToNormal}`,
    `  let in during storm    ${fmt(letInDuringStorm)} events/s (all the storm's events delivered within ${o.seconds} s of its end needs about ${fmt((5 / 3) * o.rate)})`,
    `  storm's events         the last delivered ${fmt((stormEventsDoneAt - stormEnd) / 1000)} s after the storm's end`,
    // Refused at its first post: an event offered after the storm that was waits a Retry-After.
    `  by 10 s window of the schedule   offered→receipt p50 / p99 ms   accept→receipt p50 / p99 ms   accept→first step p50 / p99 ms   refused at first post`,
    ...[...windows]
      .sort((a, b) => a[0] - b[0])
      .map(([w, { offered, accepted, firstStep, events, refusedFirst }]) => {
        const [s, a, f] = [offered, accepted, firstStep].map((xs) => xs.sort((x, y) => x - y));
        const pair = (xs: number[]) => `${fmt(pct(xs, 50)).padStart(7)} / ${fmt(pct(xs, 99)).padStart(7)}`;
        const refusedShare = `${fmt((100 * refusedFirst) / Math.max(1, events))} %`;
        return `    ${String(w * 10).padStart(4)}–${String(w * 10 + 10).padEnd(4)} s  (${String(s.length).padStart(4)})       ${pair(s)}              ${pair(a)}                 ${pair(f)}            ${refusedShare.padStart(5)}`;
      }),
    // Event-loop delay: a producer's own stall would show as a slow answer it did not get.
    `  by 10 s of the run      let in   refused   over 5 s   Retry-After given p50 / max s   event-loop delay max ms: API / producer`,
    ...[...answerWindows]
      .sort((a, b) => a[0] - b[0])
      .map(([w, { accepted, refused, retryAfter, overLimit: late }]) => {
        const r = retryAfter.sort((x, y) => x - y);
        const loop = loopDelayMaxMs.get(w);
        return `    ${String(w * 10).padStart(4)}–${String(w * 10 + 10).padEnd(4)} s     ${String(accepted).padStart(6)}   ${String(refused).padStart(7)}   ${String(late).padStart(8)}   ${fmt(pct(r, 50)).padStart(7)} / ${fmt(r[r.length - 1]).padEnd(15)}   ${fmt(loop?.api ?? NaN).padStart(6)} / ${fmt(loop?.producer ?? NaN)}`;
      }),
  ];
  return { report, delivered: received, ok: lost === 0 && overLimit === 0 && failedRows === 0 && mails === 0 };
}
