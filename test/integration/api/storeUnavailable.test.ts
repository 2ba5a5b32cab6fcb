import type { AddressInfo } from 'node:net';
import express from 'express';
import { createApiKey } from '../../../src/access/keys';
import { RETRY_AFTER_SECONDS, errorMiddleware } from '../../../src/api/errors';
import { AppError } from '../../../src/shared/errors';
import { TemplateEngineUnavailable } from '../../../src/templates/engine';
import { call, testConfig } from '../../support/harness';
import { startHarnessBehindStoreProxy } from '../../support/proxy';

describe('503 answers', () => {
  test('when the store cannot be reached, then API routes and /readyz answer 503 with Retry-After', async () => {
    const direct = testConfig();
    const { h, proxy } = await startHarnessBehindStoreProxy(direct);
    try {
      const owner = await createApiKey({ org: 'acme', role: 'owner' });
      expect((await call(h.api, 'GET', '/v3/extensions/event-webhooks', { key: owner.key })).status).toBe(200);
      proxy.cut();
      const res = await call(h.api, 'GET', '/v3/extensions/event-webhooks', { key: owner.key });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
      expect(res.body.meta.error_message).toMatch(/store is busy or unreachable/);
      const ready = await call(h.api, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
      expect(ready.body.checks.store).not.toBe('ok');
    } finally {
      await h.close();
    }
  });

  test('when the store is busy or a route answers 503 itself, then Retry-After is set; other errors have none', async () => {
    // SQLITE_BUSY cannot be caused on demand against the real store: the error mapping is served alone.
    const thrown: Record<string, unknown> = {
      busy: new Error('[collection.go:135 sqlite.(*collection).InsertAll.func1] database is locked (5) (SQLITE_BUSY)'),
      route503: new TemplateEngineUnavailable('down'),
      bad: AppError.badRequest('no'),
      bug: new Error('boom'),
    };
    const app = express();
    app.get('/:what', (req) => {
      throw thrown[req.params.what];
    });
    app.use(errorMiddleware(() => {}));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const answers = await Promise.all(
        Object.keys(thrown).map(async (what) => {
          const res = await call(base, 'GET', `/${what}`);
          return [what, res.status, res.headers.get('retry-after')];
        }),
      );
      expect(answers).toEqual([
        ['busy', 503, String(RETRY_AFTER_SECONDS)],
        ['route503', 503, String(RETRY_AFTER_SECONDS)],
        ['bad', 400, null],
        ['bug', 500, null],
      ]);
    } finally {
      server.close();
    }
  });
});
