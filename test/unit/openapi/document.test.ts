import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import { createApp } from '../../../src/api/app';
import { apiDocument, apiOperations } from '../../../src/api/routes/openapi';
import { CONSOLE_PATH } from '../../../src/console/server';
import { loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/logger';
import { openApiPath } from '../../../src/openapi/document';
import { openApiErrors } from '../../support/openapi';

const config = loadConfig({ ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', MONGODB_URI: 'mongodb://127.0.0.1:1/x' });

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every `METHOD path` the app mounts, read from Express's own router stack. */
function mountedRoutes(app: Express): string[] {
  const routes: string[] = [];
  const visit = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.handle?.stack) visit(layer.handle.stack);
      else if (layer.route) {
        for (const path of [layer.route.path].flat()) {
          for (const [method, on] of Object.entries(layer.route.methods)) if (on) routes.push(`${method} ${path}`);
        }
      }
    }
  };
  visit((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes;
}

describe('the OpenAPI document', () => {
  const doc = apiDocument(config) as { paths: Record<string, Record<string, unknown>> };

  test('when validated against the OpenAPI 3.1 schema, then it passes', () => {
    expect(openApiErrors(doc)).toEqual([]);
    expect((doc as unknown as { openapi: string }).openapi).toBe('3.1.0');
  });

  test('when a test breaks the document, then the validator says so (the check above can fail)', () => {
    const broken = structuredClone(doc);
    (broken.paths['/healthz'].get as { responses: unknown }).responses = 'none';
    expect(openApiErrors(broken).map((e) => e.instancePath)).toContain('/paths/~1healthz/get/responses');
  });

  test('when the app mounts a route, then the document declares it, and declares nothing else', () => {
    const app = createApp({ temporal: {} as Client, config, logger: createLogger('api', 'error') });
    const mounted = mountedRoutes(app)
      // The web console is a browser app (HTML and its files), not part of the API.
      .filter((r) => !r.split(' ')[1].startsWith(CONSOLE_PATH))
      .map((r) => `${r.split(' ')[0]} ${openApiPath(r.split(' ')[1])}`)
      .sort();
    const declared = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
      .sort();
    expect(mounted.length).toBeGreaterThan(20);
    expect(declared).toEqual(mounted);
  });

  test('when a body is validated by a route, then the document carries that schema (no hand-kept copy)', () => {
    const create = doc.paths['/v3/extensions/event-webhooks'].post as {
      requestBody: {
        content: { 'application/json': { schema: { properties: Record<string, unknown>; required: string[] } } };
      };
    };
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required.sort()).toEqual(['name', 'trigger_type', 'urls']);
    expect(schema.properties.max_retry).toEqual({
      anyOf: [{ type: 'integer', minimum: 0, maximum: 10 }, { type: 'null' }],
    });
    const rotate = doc.paths['/v3/extensions/event-webhooks/{id}/rotate-secret'].post as {
      requestBody: { required: boolean; content: { 'application/json': { schema: unknown } } };
    };
    // The bound comes from the configuration, as the route's check does.
    expect(rotate.requestBody.content['application/json'].schema).toMatchObject({
      properties: { grace_ms: { maximum: config.SECRET_ROTATION_GRACE_MS } },
      additionalProperties: false,
    });
  });
});

describe('the examples of the OpenAPI document', () => {
  test('when a route declares an example body, then the route’s own schema accepts it', () => {
    const withExamples = apiOperations(config).filter((op) => op.body?.example !== undefined);
    expect(withExamples.length).toBeGreaterThanOrEqual(6);
    for (const op of withExamples) {
      const parsed = op.body!.schema.safeParse(op.body!.example);
      expect({ op: `${op.method} ${op.path}`, ok: parsed.success, error: parsed.error?.issues }).toEqual({
        op: `${op.method} ${op.path}`,
        ok: true,
        error: undefined,
      });
    }
  });
});
