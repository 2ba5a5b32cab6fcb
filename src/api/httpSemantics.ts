/**
 * The HTTP rules every route shares: bodies are JSON objects sent as `application/json` (415 for
 * another type, 400 for a JSON value that is not an object), and a known path asked with a method
 * it does not serve is a 405 naming the methods it does (`Allow`), not a 404.
 */
import express, { type Express, type Request, type RequestHandler } from 'express';
import { AppError } from '../shared/errors';
import { isPlainObject } from '../shared/json';

/** The largest request body accepted (413 beyond). */
export const BODY_LIMIT = '256kb';

const JSON_TYPES = ['application/json', '+json'];

/** An error the error middleware answers with its own 4xx status. */
function httpError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status });
}

const hasBody = (req: Request) =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** Refuses bodies that are not JSON (415), parses JSON ones, and refuses JSON that is not an object. */
export function jsonBodies(): RequestHandler[] {
  return [
    (req, _res, next) => {
      if (hasBody(req) && !req.is(JSON_TYPES)) {
        throw httpError(415, `request bodies must be JSON, sent as Content-Type: application/json`);
      }
      next();
    },
    // Not strict: a body of `null` or `5` is then a clear "must be an object" below, not "malformed JSON".
    express.json({ limit: BODY_LIMIT, type: JSON_TYPES, strict: false }),
    (req, _res, next) => {
      if (req.body !== undefined && !isPlainObject(req.body)) {
        throw AppError.badRequest('the request body must be a JSON object', [
          { field: '(body)', message: 'must be an object' },
        ]);
      }
      next();
    },
  ];
}

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
  match(path: string): unknown;
}

/** The methods the app's routes serve at `path` (HEAD wherever GET is served). */
export function allowedMethods(app: Express, path: string): string[] {
  const methods = new Set<string>();
  const visit = (stack: RouteLayer[]) => {
    for (const layer of stack) {
      if (layer.handle?.stack) visit(layer.handle.stack);
      else if (layer.route && layer.match(path)) {
        for (const m of Object.keys(layer.route.methods)) methods.add(m.toUpperCase());
      }
    }
  };
  visit((app as unknown as { router: { stack: RouteLayer[] } }).router.stack);
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** The last handler: 405 with `Allow` when another method serves the path, else 404. */
export function unknownRoute(app: Express): RequestHandler {
  return (req, res) => {
    const allow = allowedMethods(app, req.path);
    if (allow.length) {
      res.set('Allow', allow.join(', '));
      throw httpError(405, `${req.method} is not allowed on ${req.path}; use ${allow.join(', ')}`);
    }
    throw AppError.notFound(`route ${req.method} ${req.path}`);
  };
}
