import { startHarness, call, type Harness } from '../../support/harness';
import { loadConfig } from '../../../src/config';
import { createApp } from '../../../src/api/app';
import { connectTemporalClient } from '../../../src/temporal/client';
import { createLogger } from '../../../src/logger';

describe('GET /healthz and /readyz', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  test('when the process is up, then /healthz answers 200', async () => {
    const res = await call(h.api, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  test('when Temporal and the store answer, then /readyz answers 200', async () => {
    const res = await call(h.api, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ temporal: 'ok', store: 'ok' });
  });

  test('when Temporal is unreachable, then /readyz answers 503 naming it', async () => {
    // A client whose connection is closed stands in for a Temporal server that went away.
    const config = loadConfig({ ...process.env });
    const temporal = await connectTemporalClient(config);
    await temporal.connection.close();
    const app = createApp({ temporal, config, logger: createLogger('api', 'error') });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    try {
      const res = await call(`http://127.0.0.1:${port}`, 'GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.body.checks.store).toBe('ok');
      // Only which check failed: the reason (which may name internal hosts) goes to the log.
      expect(res.body.checks.temporal).toBe('unavailable');
    } finally {
      server.close();
    }
  });

  test('when a route does not exist, then the answer is 404 in the error shape', async () => {
    const res = await call(h.api, 'GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.body.meta).toEqual({ status: 404, error_message: 'route GET /nope not found' });
  });

  test('when the body is malformed JSON, then the answer is 400', async () => {
    const res = await call(h.api, 'POST', '/healthz', { raw: '{"a":' });
    expect(res.status).toBe(400);
    expect(res.body.meta.error_message).toMatch(/malformed JSON/);
  });

  test('when the body is over 256 KB, then the answer is 413', async () => {
    const res = await call(h.api, 'POST', '/healthz', { raw: JSON.stringify({ x: 'a'.repeat(300 * 1024) }) });
    expect(res.status).toBe(413);
  });
});
