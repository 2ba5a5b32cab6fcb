import type { Server } from 'node:http';

/**
 * How long an idle keep-alive connection stays open: longer than load balancers' idle timeout (60 s
 * on AWS ALB, nginx's upstream default is shorter), so the balancer or a client reusing the socket
 * closes it first. Node's default of 5 s made clients that reuse a socket after a pause fail with
 * "other side closed".
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Above the keep-alive timeout, as Node requires for a request arriving on a socket just before it closes. */
export const HEADERS_TIMEOUT_MS = KEEP_ALIVE_TIMEOUT_MS + 1_000;

/** Sets the API server's connection timeouts. */
export function configureServer(server: Server): Server {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  return server;
}
