/**
 * The Jsonnet engine itself: the language and standard library as the reference implementation
 * has them, errors placed in the user's template, and the limits (time, output size, no files).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  TemplateEngineUnavailable,
  createTemplateEngine,
  formatTemplateError,
  type TemplateEngine,
} from '../../../src/templates/engine';
import { sampleEvent } from '../../../src/payloads/samples';

/** The first render on a fresh machine builds the evaluator (go build of tools/jsonnet). */
const FIRST_RENDER_TIMEOUT = 10 * 60_000;

/** Runs for minutes: nested folds over 10^10 additions. */
const endlessTemplate =
  'std.foldl(function(a, i) std.foldl(function(b, j) b + j, std.range(1, 100000), a), std.range(1, 100000), 0)';

let engine: TemplateEngine;
const root = sampleEvent('incident.triggered');

beforeAll(async () => {
  engine = createTemplateEngine({ poolSize: 2, timeoutMs: 1000, maxOutputBytes: 10_000 });
  await engine.ready();
}, FIRST_RENDER_TIMEOUT);
afterAll(() => engine.close());

async function value(source: string, input: unknown = root) {
  const result = await engine.render(source, input);
  if (!result.ok) throw new Error(`render failed: ${formatTemplateError(result.error)}`);
  return result.value;
}

async function failure(source: string, input: unknown = root) {
  const result = await engine.render(source, input);
  if (result.ok) throw new Error(`expected a failure, got ${result.body}`);
  return result.error;
}

describe('the language', () => {
  it('when a template reads root, then it sees the event it was given', async () => {
    expect(await value('{ text: root.data.resource_data.message, n: root.data.resource_data.event_count }')).toEqual({
      text: 'test incident',
      n: 1,
    });
  });

  it('when a template uses locals, functions and conditionals, then they evaluate as in Jsonnet', async () => {
    const source = `
      local inc = root.data.resource_data;
      local label(s) = if s == 'triggered' then 'open' else if s == 'resolved' then 'closed' else 'other';
      { state: label(inc.status), tagged: if inc.tags == null then 'no' else 'yes' }`;
    expect(await value(source)).toEqual({ state: 'open', tagged: 'no' });
  });

  it('when a template concatenates and formats strings, then + and std.format / % agree with the reference', async () => {
    const source = `{
      plus: 'a' + 1 + true + null,
      fmt: std.format('%s has %d event(s), %05.1f%%', [root.data.resource_data.message, 3, 2.25]),
      pct: '%(name)s=%(v)x' % { name: 'hex', v: 255 },
      upper: std.asciiUpper('mixed Case'),
    }`;
    expect(await value(source)).toEqual({
      plus: 'a1truenull',
      fmt: 'test incident has 3 event(s), 002.3%',
      pct: 'hex=ff',
      upper: 'MIXED CASE',
    });
  });

  it('when a template uses std.join, std.filter, std.split and std.map, then it gets their results', async () => {
    const source = `{
      joined: std.join(', ', ['a', 'b', 'c']),
      evens: std.filter(function(x) x % 2 == 0, std.range(1, 6)),
      parts: std.split('incident.triggered', '.'),
      lengths: std.map(std.length, ['', 'ab', 'abc']),
    }`;
    expect(await value(source)).toEqual({
      joined: 'a, b, c',
      evens: [2, 4, 6],
      parts: ['incident', 'triggered'],
      lengths: [0, 2, 3],
    });
  });

  it('when a template uses comprehensions, hidden fields and inheritance, then the output is the manifested object', async () => {
    const source = `
      local base = { kind: 'incident', hidden:: 'not shown', tags: [] };
      base + {
        squares: { [std.toString(i)]: i * i for i in [1, 2, 3] },
        pairs: [[a, b] for a in [1, 2] for b in ['x'] if a > 1],
        tags+: ['added'],
      }`;
    expect(await value(source)).toEqual({
      kind: 'incident',
      tags: ['added'],
      squares: { '1': 1, '2': 4, '3': 9 },
      pairs: [[2, 'x']],
    });
  });

  it('when a render succeeds, then body is the compact JSON text of value', async () => {
    const result = await engine.render('{ b: [1, 2], a: "x" }', null);
    expect(result).toEqual({ ok: true, value: { a: 'x', b: [1, 2] }, body: '{"a":"x","b":[1,2]}' });
  });

  it('when many renders with different roots run at once, then each gets its own root', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => engine.render('{ id: root.id, twice: root.id * 2 }', { id: i })),
    );
    results.forEach((r, i) => expect(r).toMatchObject({ ok: true, value: { id: i, twice: 2 * i } }));
  });
});

describe('errors', () => {
  it('when a template names an unknown variable, then the error gives its line and column in the template', async () => {
    expect(await failure('{\n  a: 1,\n  b: nope,\n}')).toEqual({
      message: 'Unknown variable: nope',
      line: 3,
      column: 6,
    });
  });

  it('when the error is on the first line, then the line is 1: the binding of root is invisible', async () => {
    expect(await failure('{ a: nope }')).toMatchObject({ line: 1, column: 6 });
  });

  it('when a template has a syntax error, then the error gives where the parser stopped', async () => {
    const error = await failure('{\n  a: 1 +,\n}');
    expect(error).toMatchObject({ line: 2, column: 9 });
    expect(error.message).toMatch(/unexpected/i);
  });

  it('when a field is missing from root, then the runtime error names it and points at the access', async () => {
    expect(await failure('local inc = root.data.resource_data;\n{ x: inc.no_such_field }')).toEqual({
      message: 'Field does not exist: no_such_field',
      line: 2,
      column: 6,
    });
  });

  it('when a standard library call fails, then the error points at the call in the template', async () => {
    const error = await failure('{\n  parts: std.split(root.data.resource_data.event_count, "."),\n}');
    expect(error).toMatchObject({ line: 2, column: 10 });
    expect(error.message).toMatch(/split/);
  });

  it('when a template raises an error, then its message and place are reported', async () => {
    expect(await failure("local f(x) =\n  error 'bad: ' + x;\nf('input')")).toEqual({
      message: 'bad: input',
      line: 2,
      column: 3,
    });
  });

  it('when a template evaluates to a function, then it is refused as not JSON', async () => {
    expect((await failure('{ f: function(x) x }')).message).toMatch(/function/i);
  });
});

describe('limits', () => {
  it('when a template recurses without end, then it is stopped with a clear error and the pool still renders', async () => {
    expect(await failure('local f(x) = f(x) + 1;\nf(0)')).toMatchObject({
      message: 'max stack frames exceeded.',
      line: 1,
    });
    // go-jsonnet does not count tailstrict frames: the evaluator's stack cap stops this one. On a
    // loaded machine reaching the cap can take over the shared engine's 1 s limit, so this render
    // gets an engine whose time limit cannot come first.
    const patient = createTemplateEngine({ poolSize: 1, timeoutMs: 60_000, maxOutputBytes: 10_000 });
    try {
      const tail = await patient.render('local loop(n) = loop(n + 1) tailstrict;\nloop(0)', root);
      expect(tail.ok ? tail.body : tail.error.message).toBe(
        'the template recursed too deeply (the evaluator ran out of stack)',
      );
    } finally {
      await patient.close();
    }
    expect(await value('{ ok: true }')).toEqual({ ok: true });
  }, 90_000);

  it('when a template runs past the time limit, then its process is stopped, the error says so, and later renders work', async () => {
    const started = Date.now();
    const error = await failure(endlessTemplate);
    const elapsed = Date.now() - started;
    expect(error.message).toBe('the template ran longer than the 1000 ms limit and was stopped');
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(5000);
    // Both processes of the pool are usable afterwards.
    const after = await Promise.all([value('1 + 1'), value('2 + 2'), value('3 + 3')]);
    expect(after).toEqual([2, 4, 6]);
  });

  it('when a template builds a value larger than the memory cap, then it is stopped and later renders work', async () => {
    // A generous time limit: on a loaded machine the 1 s default can stop it before the memory cap does.
    const small = createTemplateEngine({ poolSize: 1, maxHeapBytes: 64 * 1024 * 1024, timeoutMs: 10_000 });
    try {
      const result = await small.render('std.length(std.range(1, 30000000))', null);
      expect(result).toEqual({
        ok: false,
        error: { message: 'the template used more than 64 MiB of memory and was stopped' },
      });
      expect(await small.render('std.length(std.range(1, 1000))', null)).toMatchObject({ ok: true, value: 1000 });
    } finally {
      await small.close();
    }
  });

  it('when a template imports a file, then the import is refused', async () => {
    for (const source of ["import '/etc/hostname'", "importstr '/etc/passwd'", "importbin 'template'"]) {
      expect((await failure(source)).message).toMatch(/imports are not allowed in templates/);
    }
    expect((await failure("local x = import 'lib.libsonnet';\nx")).message).toMatch(/not allowed/);
  });

  it('when a template asks for another external variable, then there is none', async () => {
    expect((await failure("std.extVar('HOME')")).message).toMatch(/Undefined external variable: HOME/);
  });

  it('when the output is over the size cap, then the render fails with the sizes', async () => {
    const error = await failure('[std.repeat("x", 20000)]');
    expect(error.message).toBe('the rendered payload is 20004 bytes, over the limit of 10000 bytes');
    expect(await value('std.repeat("x", 9000)')).toHaveLength(9000);
  });

  it('when the engine is closed, then a render is refused', async () => {
    const closed = createTemplateEngine();
    await closed.close();
    await expect(closed.render('1', null)).rejects.toThrow(/closed/);
  });

  it('when more renders wait than the queue allows, then the next is refused at once as busy', async () => {
    const small = createTemplateEngine({ poolSize: 1, timeoutMs: 1000, maxQueued: 2, maxQueuedPerOrganization: 2 });
    try {
      await small.ready();
      const running = small.render(endlessTemplate, null);
      const queued = [small.render('1', null), small.render('2', null)];
      await expect(small.render('3', null)).rejects.toThrow(TemplateEngineUnavailable);
      await expect(small.render('3', null)).rejects.toThrow(/busy \(2 renders waiting\)/);
      expect((await running).ok).toBe(false);
      expect(await Promise.all(queued)).toMatchObject([{ value: 1 }, { value: 2 }]);
    } finally {
      await small.close();
    }
  });

  it('when a render may wait (a worker delivery), then it queues past both caps instead of being refused', async () => {
    const small = createTemplateEngine({ poolSize: 1, timeoutMs: 1000, maxQueued: 2, maxQueuedPerOrganization: 1 });
    try {
      await small.ready();
      const a = { organizationId: 'a' };
      const running = small.render(endlessTemplate, null, a);
      const queued = small.render('1', null, a);
      await expect(small.render('2', null, a)).rejects.toThrow(/busy \(1 renders of this organization waiting/);
      const waiting = [2, 3, 4].map((n) => small.render(String(n), null, a, { waitWhenBusy: true }));
      // The queue is over its cap now: a render that may not wait is still refused.
      await expect(small.render('5', null, { organizationId: 'b' })).rejects.toThrow(/busy \(4 renders waiting\)/);
      expect((await running).ok).toBe(false);
      expect(await Promise.all([queued, ...waiting])).toMatchObject([
        { value: 1 },
        { value: 2 },
        { value: 3 },
        { value: 4 },
      ]);
    } finally {
      await small.close();
    }
  });

  /** About 0.3 s of evaluation per render on this machine (measured: 289 ms). */
  const slowTemplate = 'std.foldl(function(a, i) a + i, std.range(1, 200000), 0)';

  it('when one organization queues many slow renders, then another organization’s render waits for the running ones only', async () => {
    const pool = createTemplateEngine({ poolSize: 2, timeoutMs: 5000 });
    try {
      await pool.ready();
      const t0 = performance.now();
      // 2 evaluators: first-in-first-out, the fast render would wait for 15 rounds of slow ones.
      const slow = Array.from({ length: 30 }, (_, i) =>
        pool.render(slowTemplate, null, { organizationId: 'busy-org', webhookId: `wh-${i % 3}` }),
      );
      const fast = pool
        .render('{ ok: true }', null, { organizationId: 'quiet-org', webhookId: 'wh' })
        .then(() => performance.now() - t0);
      const slowDone = Promise.all(slow).then(() => performance.now() - t0);
      const [fastMs, slowMs] = await Promise.all([fast, slowDone]);
      // At most the two renders running when it arrived, plus the next in turn: not the burst.
      expect(fastMs).toBeLessThan(slowMs / 4);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('when one organization fills its share of the queue, then its next render is refused as busy and another organization’s is still taken', async () => {
    const pool = createTemplateEngine({ poolSize: 1, timeoutMs: 1000, maxQueued: 10, maxQueuedPerOrganization: 2 });
    try {
      await pool.ready();
      const a = { organizationId: 'a' };
      const running = pool.render(endlessTemplate, null, a);
      const queued = [pool.render('1', null, a), pool.render('2', null, a)];
      await expect(pool.render('3', null, a)).rejects.toThrow(/busy \(2 renders of this organization waiting/);
      const other = pool.render('4', null, { organizationId: 'b' });
      expect((await running).ok).toBe(false);
      expect(await Promise.all([...queued, other])).toMatchObject([{ value: 1 }, { value: 2 }, { value: 4 }]);
    } finally {
      await pool.close();
    }
  });

  it('when the engine is closed while a render waits to start, then that render is refused', async () => {
    const closing = createTemplateEngine();
    const pending = closing.render('1', null);
    await closing.close();
    await expect(pending).rejects.toThrow(/closed/);
  });
});

/** Evaluator processes this process started (Linux /proc). */
function evaluatorPids(): number[] {
  return fs
    .readdirSync('/proc/self/task')
    .flatMap((task) => fs.readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' '))
    .filter(Boolean)
    .map(Number)
    .filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('-max-render'));
}

/** Gone: no such process, or a zombie waiting for whoever adopted it. */
function isGone(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return true;
  }
}

async function waitUntil(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('evaluator processes', () => {
  it('when an evaluator is killed from outside, then the next render runs on a fresh one and succeeds', async () => {
    const own = createTemplateEngine({ poolSize: 1 });
    try {
      await own.ready();
      const before = evaluatorPids();
      expect(before.length).toBeGreaterThan(0);
      for (const pid of before) process.kill(pid, 'SIGKILL');
      expect(await own.render('{ a: root }', 1)).toMatchObject({ ok: true, value: { a: 1 } });
      expect(evaluatorPids().some((pid) => !before.includes(pid))).toBe(true);
      // A killed process can stay listed for a moment while the kernel tears it down.
      await waitUntil('the killed evaluators are gone', () => before.every(isGone), 5000);
    } finally {
      await own.close();
    }
  });

  it('when the process using the engine dies mid-render, then its evaluator stops too', async () => {
    const script = `
      const { createTemplateEngine } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/templates/engine.ts'))});
      const engine = createTemplateEngine({ poolSize: 1, timeoutMs: 60000 });
      engine.ready().then(() => {
        void engine.render(${JSON.stringify(endlessTemplate)}, null);
        setTimeout(() => process.exit(0), 300);
      });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: 'ignore' });
    let evaluator: number | undefined;
    // The evaluator is the child's child: find it while the render runs.
    await waitUntil(
      'the evaluator runs',
      () => {
        try {
          const kids = fs
            .readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')
            .split(' ')
            .filter(Boolean);
          evaluator = kids
            .map(Number)
            .find((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('-max-render'));
        } catch {
          // not started yet
        }
        return evaluator !== undefined;
      },
      60_000,
    );
    await new Promise((resolve) => child.once('exit', resolve));
    await waitUntil('the orphaned evaluator exits', () => isGone(evaluator!), 3000);
  }, 90_000);

  it('when the evaluator answers outside the protocol, then the render is refused as an engine failure, not a template error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-jsonnet-'));
    const fake = path.join(dir, 'jsonnet');
    // Says ready, then answers a request with a line that is no reply.
    fs.writeFileSync(fake, '#!/bin/sh\necho "ready fake"\nread line\necho "not a reply"\nexec sleep 30\n', {
      mode: 0o755,
    });
    const saved = process.env.HOOKRELAY_JSONNET_BIN;
    process.env.HOOKRELAY_JSONNET_BIN = fake;
    const broken = createTemplateEngine({ poolSize: 1, timeoutMs: 5000 });
    try {
      const started = Date.now();
      const outcome = broken.render('1', null);
      await expect(outcome).rejects.toBeInstanceOf(TemplateEngineUnavailable);
      await expect(outcome).rejects.toThrow(/died twice/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      if (saved === undefined) delete process.env.HOOKRELAY_JSONNET_BIN;
      else process.env.HOOKRELAY_JSONNET_BIN = saved;
      await broken.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
