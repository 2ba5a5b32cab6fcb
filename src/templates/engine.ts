/**
 * The Jsonnet template engine: go-jsonnet compiled to WebAssembly (tools/jsonnet-wasm), run in a
 * small pool of worker threads. A render that runs past the time limit is stopped from outside
 * (its thread is terminated and a fresh one started), so a runaway template costs one time limit
 * and never blocks the caller's thread or the renders queued behind it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ensureJsonnetWasm } from '../stack/binaries';
import type { Json } from '../shared/types';
import { loadConfig, type Config } from '../config';

// Node's WebAssembly global, which the project's TypeScript libs (ES2022, no DOM) do not declare.
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> };
/** A compiled module: opaque here, instantiated by each worker thread. */
type WasmModule = object;

export interface TemplateEngineOptions {
  /** Worker threads evaluating in parallel; default min(2, cores). */
  poolSize?: number;
  /** Wall-clock limit of one render, enforced by terminating its thread (config TEMPLATE_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Largest rendered body, compact JSON bytes (config TEMPLATE_MAX_OUTPUT_BYTES). */
  maxOutputBytes?: number;
  /** A thread whose wasm memory grew past this after a render is replaced; default 512 MiB. */
  recycleMemoryBytes?: number;
  /** Renders each new thread runs before taking work, so V8 has optimised the evaluator; default 25. */
  warmupRenders?: number;
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
  render(source: string, root: unknown): Promise<RenderResult>;
  /**
   * Builds the evaluator if this machine has none yet (a minute, once) and starts a thread; for
   * entry points that would rather pay that at start than on the first custom payload.
   */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** "message (line L, column C)": for logs and error strings that carry no structure. */
export function formatTemplateError(error: TemplateError): string {
  return error.line ? `${error.message} (line ${error.line}, column ${error.column})` : error.message;
}

interface Task {
  id: number;
  source: string;
  rootJson: string;
  resolve(result: RenderResult): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task?: Task;
  timer?: NodeJS.Timeout;
}

interface Loaded {
  module: WasmModule;
  wasmExecPath: string;
}

interface WorkerReply {
  id?: number;
  ready?: boolean;
  ok?: boolean;
  output?: string;
  message?: string;
  line?: number;
  column?: number;
  memoryBytes?: number;
  /** The thread is no longer trustworthy (an exception went through the Go runtime). */
  retire?: boolean;
}

const workerFile = path.join(__dirname, 'worker.js');
/** A thread that dies before it is ready this many times in a row means the engine is broken. */
const MAX_START_FAILURES = 3;

class WorkerPool implements TemplateEngine {
  private readonly size: number;
  private readonly timeoutMs: number;
  private readonly maxOutputBytes: number;
  private readonly recycleMemoryBytes: number;
  private readonly warmupRenders: number;
  private loading?: Promise<Loaded>;
  private loaded?: Loaded;
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private startFailures = 0;
  private closed = false;

  constructor(opts: TemplateEngineOptions) {
    this.size = Math.max(1, opts.poolSize ?? Math.min(2, os.availableParallelism()));
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.maxOutputBytes = opts.maxOutputBytes ?? 256 * 1024;
    this.recycleMemoryBytes = opts.recycleMemoryBytes ?? 512 * 1024 * 1024;
    this.warmupRenders = opts.warmupRenders ?? 25;
  }

  async render(source: string, root: unknown): Promise<RenderResult> {
    if (this.closed) throw new Error('the template engine is closed');
    if (typeof source !== 'string') throw new TypeError('template source must be a string');
    const rootJson = JSON.stringify(root ?? null);
    await this.load();
    return new Promise<RenderResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, source, rootJson, resolve, reject });
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
    for (const task of this.queue.splice(0)) task.reject(new Error('the template engine was closed'));
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.task?.reject(new Error('the template engine was closed'));
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** Builds (first run on a machine) and compiles the evaluator once; every thread instantiates it. */
  private load(): Promise<Loaded> {
    this.loading ??= (async () => {
      const { wasmPath, wasmExecPath } = await ensureJsonnetWasm();
      const module = await WebAssembly.compile(await fs.promises.readFile(wasmPath));
      this.loaded = { module, wasmExecPath };
      return this.loaded;
    })();
    // A failed build is retried by the next render rather than remembered forever.
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  /** Starts threads up to the pool size while there is work for them. */
  private fill(): void {
    while (!this.closed && this.loaded && this.slots.size < this.size && this.slots.size < this.pendingCount()) {
      this.spawn(this.loaded);
    }
    this.keepAlive();
  }

  private pendingCount(): number {
    let busy = 0;
    for (const s of this.slots) if (s.task) busy++;
    return this.queue.length + busy;
  }

  private spawn(loaded: Loaded): void {
    const worker = new Worker(workerFile, {
      workerData: { module: loaded.module, wasmExecPath: loaded.wasmExecPath, warmupRenders: this.warmupRenders },
      // Deep (tail-)recursion in a template runs on this stack: 16 MB fits 5,000 (not 20,000)
      // levels of a `tailstrict` loop, where the default 4 MB stops between 2,000 and 5,000.
      resourceLimits: { stackSizeMb: 16 },
    });
    const slot: Slot = { worker, ready: false };
    this.slots.add(slot);
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (err) => this.onExit(slot, err));
    worker.on('exit', (code) => this.onExit(slot, new Error(`template worker exited with code ${code}`)));
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    if (reply.ready) {
      slot.ready = true;
      this.startFailures = 0;
      return this.dispatch();
    }
    const task = slot.task;
    if (!task || reply.id !== task.id) return;
    clearTimeout(slot.timer);
    slot.task = slot.timer = undefined;
    task.resolve(toResult(reply));
    if (reply.retire || (reply.memoryBytes ?? 0) > this.recycleMemoryBytes) this.retire(slot);
    this.dispatch();
  }

  private onExit(slot: Slot, err: Error): void {
    if (!this.slots.delete(slot)) return;
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.task) {
      // The thread died under this template (most likely it ran the evaluator out of memory).
      slot.task.resolve({ ok: false, error: { message: `the template crashed the evaluator: ${err.message}` } });
    } else if (!slot.ready && ++this.startFailures >= MAX_START_FAILURES) {
      const broken = new Error(`the template engine cannot start its worker threads: ${err.message}`);
      for (const task of this.queue.splice(0)) task.reject(broken);
      this.startFailures = 0;
      return;
    }
    this.fill();
  }

  /** Takes a thread out of the pool (time limit or memory) and lets fill() start a fresh one. */
  private retire(slot: Slot): void {
    this.slots.delete(slot);
    void slot.worker.terminate();
    this.fill();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!this.queue.length) break;
      if (!slot.ready || slot.task) continue;
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
      slot.worker.postMessage({
        id: task.id,
        source: task.source,
        rootJson: task.rootJson,
        maxBytes: this.maxOutputBytes,
      });
    }
    this.keepAlive();
  }

  /** Threads keep the process alive only while there is work: a render, or a queue to start for. */
  private keepAlive(): void {
    for (const slot of this.slots) {
      if (slot.task || (this.queue.length && !slot.ready)) slot.worker.ref();
      else slot.worker.unref();
    }
  }
}

function toResult(reply: WorkerReply): RenderResult {
  if (reply.ok && typeof reply.output === 'string') {
    return { ok: true, value: JSON.parse(reply.output) as Json, body: reply.output };
  }
  const error: TemplateError = { message: reply.message ?? 'the template failed' };
  if (reply.line) {
    error.line = reply.line;
    error.column = reply.column;
  }
  return { ok: false, error };
}

/** A pool of its own; most callers want `sharedTemplateEngine()`. */
export function createTemplateEngine(opts: TemplateEngineOptions = {}): TemplateEngine {
  return new WorkerPool(opts);
}

let shared: TemplateEngine | undefined;

/**
 * The process-wide engine the API and the worker's activities share, created on first use with the
 * limits of the configuration passed then (later arguments are ignored). Without an argument the
 * process's own configuration applies, so no caller can create it with default limits by accident.
 */
export function sharedTemplateEngine(
  config: Pick<Config, 'TEMPLATE_TIMEOUT_MS' | 'TEMPLATE_MAX_OUTPUT_BYTES'> = loadConfig(),
): TemplateEngine {
  shared ??= createTemplateEngine({
    timeoutMs: config.TEMPLATE_TIMEOUT_MS,
    maxOutputBytes: config.TEMPLATE_MAX_OUTPUT_BYTES,
  });
  return shared;
}

export async function closeSharedTemplateEngine(): Promise<void> {
  const engine = shared;
  shared = undefined;
  await engine?.close();
}
