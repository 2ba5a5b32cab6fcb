'use strict';
/* global WebAssembly */
/**
 * One template worker thread: go-jsonnet (WebAssembly, built from tools/jsonnet-wasm) loaded once,
 * then one render per message. Plain JavaScript so that it runs the same under tsx, jest and a
 * build without a TypeScript loader in the thread. The pool (engine.ts) times every render and
 * terminates this thread when one runs too long, so nothing here watches the clock.
 *
 * in:  { id, source, rootJson, maxBytes }
 * out: { ready: true, version } once, then { id, ok: true, output, memoryBytes }
 *      or { id, ok: false, message, line, column, memoryBytes, retire? }
 */
const { parentPort, workerData } = require('node:worker_threads');

// wasm_exec.js gives the Go program a file system that answers ENOSYS to everything unless
// globalThis.fs is set; it is not, so even a way around the importer could not reach a file.
delete globalThis.fs;
require(workerData.wasmExecPath);

const go = new globalThis.Go();
go.argv = ['jsonnet'];
go.env = {};
const instance = new WebAssembly.Instance(workerData.module, go.importObject);
go.run(instance).then(() => {
  // The Go program only returns on a fatal error (say, out of memory): this thread is useless now.
  process.exit(70);
});
const jsonnet = globalThis.hookrelayJsonnet;
const memory = instance.exports.mem;

// A cold instance runs its first renders in V8's baseline wasm tier (a first render measured
// 50-250 ms, later ones a millisecond or two); a few renders before saying ready pay that here,
// off the clock of any real render.
const warmRoot = JSON.stringify({
  data: { resource_data: { id: 'w', message: 'warm up', status: 'triggered', tags: { a: { value: 'b' } } } },
});
const warmSource = `local inc = root.data.resource_data;
{ text: '[' + inc.status + '] ' + inc.message, n: std.length(inc.message),
  tags: std.join(', ', [k + '=' + inc.tags[k].value for k in std.objectFields(inc.tags)]),
  up: std.asciiUpper(inc.id), parts: std.split(inc.message, ' '), f: '%s-%d' % [inc.id, 1],
  o: { [k]: std.get(inc, k) for k in ['id', 'status'] } }`;
// Each warm-up source differs by a comment, so the parser warms up too (a template is parsed once
// per thread, then its AST is cached).
for (let i = 0; i < (workerData.warmupRenders ?? 0); i++) jsonnet.render(`${warmSource}\n// ${i}`, warmRoot, 1 << 20);

parentPort.on('message', (msg) => {
  let result;
  try {
    result = jsonnet.render(msg.source, msg.rootJson, msg.maxBytes);
  } catch (err) {
    // An exception thrown through the Go program (in practice, deep recursion exhausting the
    // thread's stack) leaves its runtime in an unknown state: answer, then ask to be replaced.
    const message =
      err instanceof RangeError
        ? 'the template recursed too deeply (the evaluator ran out of stack)'
        : `the evaluator failed: ${err && err.message ? err.message : err}`;
    result = { ok: false, message, retire: true };
  }
  parentPort.postMessage({ id: msg.id, ...result, memoryBytes: memory.buffer.byteLength });
});
parentPort.postMessage({ ready: true, version: jsonnet.version });
