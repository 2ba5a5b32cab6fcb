/**
 * More than one new connection accepted per turn of the event loop. Node 20's libuv accepts one
 * connection per listening descriptor each time the loop polls, and a saturated service process
 * turns its loop only 3–10 times a second (each turn answers every request that arrived on open
 * connections). In storms a producer's burst of new connections then waited seconds in the kernel's
 * accept queue, filling it: up to 1,380 posts of 15,021 unanswered within 5 s while requests on
 * kept-alive connections were answered in milliseconds and the request deadline never started
 * (docs/benchmarks.md). Each copy is the same listening socket under another descriptor, so each
 * turn accepts one connection per copy.
 */
import { spawn } from 'node:child_process';
import http, { type RequestListener, type Server } from 'node:http';
import { configureServer } from './server';

/**
 * A helper process sends each handle it is sent back: passing a socket through another process is
 * how Node duplicates its descriptor. Sent as a bare handle, it never listens in the helper.
 */
const SEND_BACK = "process.on('message', (m, h) => process.send(m, h, () => h.close()))";

/** Servers answering with `handler` on `copies` more descriptors of `server`'s listening socket. */
export async function listenOnCopies(server: Server, handler: RequestListener, copies: number): Promise<Server[]> {
  if (copies <= 0) return [];
  // No environment: the helper needs none, and gets no secrets.
  const helper = spawn(process.execPath, ['-e', SEND_BACK], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: {} });
  const handle = (server as unknown as { _handle: object })._handle;
  const servers: Server[] = [];
  try {
    for (let i = 0; i < copies; i++) {
      const copy = await new Promise<object>((resolve, reject) => {
        const exited = (code: number | null) => reject(new Error(`the descriptor helper exited (${code})`));
        helper.once('exit', exited);
        helper.once('error', reject);
        helper.once('message', (_m, h) => {
          helper.off('exit', exited).off('error', reject);
          resolve(h as object);
        });
        helper.send('listener', handle as never, { keepOpen: true });
      });
      const onCopy = configureServer(http.createServer(handler));
      await new Promise<void>((resolve, reject) => onCopy.once('error', reject).listen(copy, resolve));
      servers.push(onCopy);
    }
    return servers;
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    throw err;
  } finally {
    if (helper.connected) helper.disconnect();
  }
}
