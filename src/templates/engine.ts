/**
 * The Jsonnet template engine: go-jsonnet (tools/jsonnet) running as a small pool of evaluator
 * processes, each rendering one template at a time over its stdin and stdout. A render that runs
 * past the time limit is stopped from outside (its process is killed and a fresh one started), so a
 * runaway template costs one time limit and never blocks the caller or the renders queued behind it.
 *
 * Why processes and not go-jsonnet compiled to WebAssembly in worker threads: measured here, the
 * library Slack template took 3.2 ms per render that way and 0.7 ms with native go-jsonnet plus the
 * pipe round trip. A process also holds nothing a template could reach: its environment is empty,
 * imports are refused, and its heap and stack are capped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { stopChildProcess } from '../process';
import { ensureJsonnetEvaluator } from '../stack/binaries';
import type { Json } from '../shared/types';
import { loadConfig, type Config } from '../config';
import { FairQueue, type Owner } from './fairQueue';

export interface TemplateEngineOptions {
  /** Evaluator processes rendering in parallel; default min(2, cores) (config TEMPLATE_POOL_SIZE). */
  poolSize?: number;
  /** Wall-clock limit of one render, enforced by killing its process (config TEMPLATE_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Largest rendered body, compact JSON bytes (config TEMPLATE_MAX_OUTPUT_BYTES). */
  maxOutputBytes?: number;
  /** A render whose heap grows past this is stopped; default 512 MiB (config TEMPLATE_MAX_MEMORY_MB). */
  maxHeapBytes?: number;
  /**
   * Renders that may wait for an evaluator; beyond it a render is refused at once as busy
   * (TemplateEngineUnavailable), rather than queueing behind templates that run to the time limit,
   * unless it may wait (RenderOptions.waitWhenBusy). Default 500.
   */
  maxQueued?: number;
  /**
   * Renders of one organization that may wait, so one tenant's burst cannot fill the queue for all;
   * beyond it its renders are refused as busy. Default half of `maxQueued`.
   */
  maxQueuedPerOrganization?: number;
}

/**
 * Whose render it is: renders are queued fairly across organizations, then across webhooks. The
 * organization defaults to the root's `data.organization.id` (a v2 event).
 */
export interface RenderOwner {
  organizationId?: string;
  webhookId?: string;
}

export interface RenderOptions {
  /**
   * Wait in the queue however many renders wait, instead of being refused as busy. For the
   * worker's deliveries: their number is already bounded by its activity slots, and a refused render
   * only came back through its activity's retry backoff. With more local-activity slots than one
   * organization's share of the queue, a burst of 2,000 events through a template was refused
   * over and over and trickled out for 35 s with the CPU idle. The fair queue still puts other
   * organizations' renders between them.
   */
  waitWhenBusy?: boolean;
}

/** Where a template failed: line and column are 1-based, in the user's template, when known. */
export interface TemplateError {
  message: string;
  line?: number;
  column?: number;
}

export type RenderResult =
  /** `body` is the compact JSON text of `value`: what a delivery sends and logs. */
  { ok: true; value: Json; body: string } | { ok: false; error: TemplateError };

export interface TemplateEngine {
  /**
   * Renders `source` with `root` bound to `root` (a v2 event envelope, or any JSON value). A
   * template's own failure (syntax, runtime error, time or size limit) resolves `ok: false`; only a
   * broken engine (the evaluator cannot be built or loaded) rejects.
   */
  render(source: string, root: unknown, owner?: RenderOwner, options?: RenderOptions): Promise<RenderResult>;
  /**
   * Builds the evaluator if this machine has none yet (half a minute, once) and starts a process; for
   * entry points that would rather pay that at start than on the first custom payload.
   */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The engine itself cannot render (the evaluator cannot be built or started, or died under a render
 * it did not cause): not the template's fault, so worth retrying later. The API answers 503.
 */
export class TemplateEngineUnavailable extends Error {
  override name = 'TemplateEngineUnavailable';
}

/** "message (line L, column C)": for logs and error strings that carry no structure. */
export function formatTemplateError(error: TemplateError): string {
  return error.line ? `${error.message} (line ${error.line}, column ${error.column})` : error.message;
}

interface Task {
  id: number;
  owner: Owner;
  source: string;
  rootJson: string;
  /** Set once the task was requeued after its evaluator died of something else than the template. */
  requeued?: boolean;
  resolve(result: RenderResult): void;
  reject(err: Error): void;
}

interface Slot {
  child: ChildProcess;
  ready: boolean;
  /** Killed by the pool, waiting for its 'close': takes no more work. */
  retired?: boolean;
  task?: Task;
  timer?: NodeJS.Timeout;
  /** The start of the process's stderr: the Go runtime says there why it aborted (a stack trace follows). */
  stderr: string;
}

/** An evaluator that dies before it is ready this many times in a row means the engine is broken. */
const MAX_START_FAILURES = 3;

class ProcessPool implements TemplateEngine {
  private readonly size: number;
  private readonly timeoutMs: number;
  private readonly maxOutputBytes: number;
  private readonly maxHeapBytes: number;
  private readonly maxQueued: number;
  private readonly maxQueuedPerOrganization: number;
  private loading?: Promise<string>;
  private binary?: string;
  private readonly slots = new Set<Slot>();
  private readonly queue = new FairQueue<Task>();
  private nextId = 1;
  private startFailures = 0;
  private closed = false;

  constructor(opts: TemplateEngineOptions) {
    this.size = Math.max(1, opts.poolSize || Math.min(2, os.availableParallelism()));
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.maxOutputBytes = opts.maxOutputBytes ?? 256 * 1024;
    this.maxHeapBytes = opts.maxHeapBytes ?? 512 * 1024 * 1024;
    this.maxQueued = opts.maxQueued ?? 500;
    this.maxQueuedPerOrganization = opts.maxQueuedPerOrganization ?? Math.max(1, Math.ceil(this.maxQueued / 2));
  }

  async render(
    source: string,
    root: unknown,
    owner: RenderOwner = {},
    { waitWhenBusy = false }: RenderOptions = {},
  ): Promise<RenderResult> {
    if (this.closed) throw new Error('the template engine is closed');
    if (typeof source !== 'string') throw new TypeError('template source must be a string');
    const rootJson = JSON.stringify(root ?? null);
    await this.load();
    if (this.closed) throw new Error('the template engine is closed');
    if (!waitWhenBusy && this.queue.size >= this.maxQueued) {
      throw new TemplateEngineUnavailable(`the template engine is busy (${this.queue.size} renders waiting)`);
    }
    const task = { owner: ownerOf(owner, root), source, rootJson };
    const waiting = this.queue.waiting(task.owner.organization);
    if (!waitWhenBusy && waiting >= this.maxQueuedPerOrganization) {
      throw new TemplateEngineUnavailable(
        `the template engine is busy (${waiting} renders of this organization waiting, its share of the queue)`,
      );
    }
    return new Promise<RenderResult>((resolve, reject) => {
      this.queue.push({ ...task, id: this.nextId++, resolve, reject });
      this.fill();
      this.dispatch();
    });
  }

  async ready(): Promise<void> {
    const result = await this.render('null', null);
    if (!result.ok) throw new Error(`the template engine does not work: ${result.error.message}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.drain()) task.reject(new Error('the template engine was closed'));
    const slots = [...this.slots];
    this.slots.clear();
    await Promise.all(
      slots.map((slot) => {
        if (slot.timer) clearTimeout(slot.timer);
        slot.task?.reject(new Error('the template engine was closed'));
        return stopChildProcess(slot.child, 1000);
      }),
    );
  }

  /** Builds the evaluator on the first run on a machine; later calls reuse the path. */
  private load(): Promise<string> {
    this.loading ??= ensureJsonnetEvaluator().then(
      (binary) => (this.binary = binary),
      (err: Error) => {
        throw new TemplateEngineUnavailable(`the Jsonnet evaluator could not be built: ${err.message}`);
      },
    );
    // A failed build is retried by the next render rather than remembered forever.
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  /** Starts processes up to the pool size while there is work for them. */
  private fill(): void {
    while (!this.closed && this.binary && this.slots.size < this.size && this.slots.size < this.pendingCount()) {
      this.spawn(this.binary);
    }
    this.keepAlive();
  }

  private pendingCount(): number {
    let busy = 0;
    for (const s of this.slots) if (s.task) busy++;
    return this.queue.size + busy;
  }

  private spawn(binary: string): void {
    // The evaluator's own time limit is a backstop for when this process dies mid-render and
    // cannot kill it: it is never reached while the pool's timer runs.
    const args = [`-max-heap-bytes=${this.maxHeapBytes}`, `-max-render=${2 * this.timeoutMs + 1000}ms`];
    const child = spawn(binary, args, {
      // Nothing of this process's environment (store URIs, SMTP credentials) is the evaluator's.
      env: {},
      cwd: os.tmpdir(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const slot: Slot = { child, ready: false, stderr: '' };
    this.slots.add(slot);
    const replies = new ReplyReader((header, body) => this.onReply(slot, header, body));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!replies.push(chunk)) {
        slot.stderr ||= 'a reply the engine does not understand (HOOKRELAY_JSONNET_BIN from another version?)';
        this.retire(slot);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (slot.stderr.length < 4096) slot.stderr += chunk.toString();
    });
    // Writing to a process that just died fails with EPIPE; 'close' below deals with the death.
    child.stdin!.on('error', () => undefined);
    child.on('error', (err) => this.onExit(slot, err.message));
    child.on('close', (code, signal) => this.onExit(slot, signal ? `signal ${signal}` : `exit code ${code}`));
  }

  private onReply(slot: Slot, header: string[], body: string): void {
    if (header[0] === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      return this.dispatch();
    }
    const task = slot.task;
    if (!task || header[0] !== String(task.id)) return;
    clearTimeout(slot.timer);
    slot.task = slot.timer = undefined;
    task.resolve(toResult(header, body));
    // "fatal": the evaluator answered and is exiting (its heap watchdog stopped the render).
    if (header[1] === 'fatal') this.retire(slot);
    this.dispatch();
  }

  private onExit(slot: Slot, how: string): void {
    if (!this.slots.delete(slot)) return;
    if (slot.timer) clearTimeout(slot.timer);
    const task = slot.task;
    if (task && /stack overflow|stack exceeds/.test(slot.stderr)) {
      task.resolve({
        ok: false,
        error: { message: 'the template recursed too deeply (the evaluator ran out of stack)' },
      });
    } else if (task) {
      // Killed from outside (the OOM killer, an operator): not the template's doing. It gets one
      // more try on a fresh evaluator, then the caller learns the engine is failing.
      if (task.requeued) {
        const why = `${how} ${slot.stderr.trim().slice(0, 200)}`.trim();
        task.reject(new TemplateEngineUnavailable(`the Jsonnet evaluator died twice under one render (${why})`));
      } else {
        task.requeued = true;
        this.queue.push(task, true);
      }
    } else if (!slot.ready && !slot.retired && ++this.startFailures >= MAX_START_FAILURES) {
      const broken = new TemplateEngineUnavailable(
        `the template engine cannot start its evaluator: ${how} ${slot.stderr.trim().slice(0, 500)}`.trim(),
      );
      for (const queued of this.queue.drain()) queued.reject(broken);
      this.startFailures = 0;
      return;
    }
    this.fill();
    this.dispatch();
  }

  /** Kills a process; its 'close' (onExit) takes it out of the pool and starts a fresh one. */
  private retire(slot: Slot): void {
    slot.retired = true;
    slot.child.kill('SIGKILL');
    this.keepAlive();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!this.queue.size) break;
      if (!slot.ready || slot.retired || slot.task) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.timer = setTimeout(() => {
        slot.task = slot.timer = undefined;
        task.resolve({
          ok: false,
          error: { message: `the template ran longer than the ${this.timeoutMs} ms limit and was stopped` },
        });
        this.retire(slot);
      }, this.timeoutMs);
      const source = Buffer.from(task.source);
      const root = Buffer.from(task.rootJson);
      slot.child.stdin!.write(`${task.id} ${this.maxOutputBytes} ${source.length} ${root.length}\n`);
      slot.child.stdin!.write(Buffer.concat([source, root]));
    }
    this.keepAlive();
  }

  /** Processes keep this one alive only while there is work: a render, or a queue to start for. */
  private keepAlive(): void {
    for (const slot of this.slots) {
      // A retired process is held until its 'close', which starts the replacement queued work needs.
      const busy = Boolean(slot.task || slot.retired || (this.queue.size && !slot.ready));
      const { child } = slot;
      for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as Referable[]) {
        if (busy) handle.ref();
        else handle.unref();
      }
    }
  }
}

function ownerOf(owner: RenderOwner, root: unknown): Owner {
  const data = (root as { data?: { organization?: { id?: unknown } } } | null)?.data;
  const fromRoot = typeof data?.organization?.id === 'string' ? data.organization.id : '';
  return { organization: owner.organizationId ?? fromRoot, webhook: owner.webhookId ?? '' };
}

/** A child process and its pipes (net.Socket underneath), which can stop holding the event loop. */
interface Referable {
  ref(): void;
  unref(): void;
}

/**
 * Splits an evaluator's stdout into replies: a header line, then a body of the byte length the
 * header's last field gives ("ready <version>" has none).
 */
class ReplyReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onReply: (header: string[], body: string) => void) {}

  /** False when the output is not the protocol: the process must go. */
  push(chunk: Buffer): boolean {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const newline = this.pending.indexOf(10);
      if (newline < 0) return true;
      const header = this.pending.toString('utf8', 0, newline).split(' ');
      const ready = header[0] === 'ready' && header.length === 2;
      const length = ready ? 0 : header.length === 5 ? Number(header[4]) : NaN;
      if (!Number.isSafeInteger(length) || length < 0) return false;
      const end = newline + 1 + length;
      if (this.pending.length < end) return true;
      const body = this.pending.toString('utf8', newline + 1, end);
      this.pending = this.pending.subarray(end);
      this.onReply(header, body);
    }
  }
}

/** header: "<id> <ok|error|fatal> <line> <column> <bodyBytes>"; body: the output JSON or the error message. */
function toResult(header: string[], body: string): RenderResult {
  if (header[1] === 'ok') return { ok: true, value: JSON.parse(body) as Json, body };
  const error: TemplateError = { message: body || 'the template failed' };
  const line = Number(header[2]);
  if (line) {
    error.line = line;
    error.column = Number(header[3]);
  }
  return { ok: false, error };
}

/** A pool of its own; most callers want `sharedTemplateEngine()`. */
export function createTemplateEngine(opts: TemplateEngineOptions = {}): TemplateEngine {
  return new ProcessPool(opts);
}

let shared: TemplateEngine | undefined;

/** The configuration keys the shared engine reads. */
export type TemplateConfig = Pick<
  Config,
  'TEMPLATE_TIMEOUT_MS' | 'TEMPLATE_MAX_OUTPUT_BYTES' | 'TEMPLATE_POOL_SIZE' | 'TEMPLATE_MAX_MEMORY_MB'
>;

/**
 * The process-wide engine the API and the worker's activities share, created on first use with the
 * limits of the configuration passed then (later arguments are ignored). Without an argument the
 * process's own configuration applies, so no caller can create it with default limits by accident.
 */
export function sharedTemplateEngine(config: TemplateConfig = loadConfig()): TemplateEngine {
  shared ??= createTemplateEngine({
    poolSize: config.TEMPLATE_POOL_SIZE,
    timeoutMs: config.TEMPLATE_TIMEOUT_MS,
    maxOutputBytes: config.TEMPLATE_MAX_OUTPUT_BYTES,
    maxHeapBytes: config.TEMPLATE_MAX_MEMORY_MB * 1024 * 1024,
  });
  return shared;
}

export async function closeSharedTemplateEngine(): Promise<void> {
  const engine = shared;
  shared = undefined;
  await engine?.close();
}
