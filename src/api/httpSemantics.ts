/**
 * The HTTP rules every route shares: bodies are JSON objects sent as `application/json` (415 for
 * another type, 400 for a JSON value that is not an object or holds a NUL character), and a known
 * path asked with a method it does not serve is a 405 naming the methods it does (`Allow`), not a 404.
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

/** Where in a parsed body the first string or key holding a NUL is, as a field path. */
function nulField(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path || '(body)' : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\0')) return at;
    const found = nulField(item, at);
    if (found) return found;
  }
  return undefined;
}

/** A raw body that may hold a NUL: JSON writes one only as this escape. */
const NUL_ESCAPE = '\\u0000';
const mayHoldNul = new WeakSet<Request>();

/**
 * Refuses bodies that are not JSON (415), parses JSON ones, and refuses JSON that is not an object,
 * or that holds a NUL in a string or key (400 naming it): the store cannot keep one (PostgreSQL,
 * under the embedded store, refuses it), and no field of this API needs one.
 */
export function jsonBodies(): RequestHandler[] {
  return [
    (req, _res, next) => {
      if (hasBody(req) && !req.is(JSON_TYPES)) {
        throw httpError(415, `request bodies must be JSON, sent as Content-Type: application/json`);
      }
      next();
    },
    // Not strict: a body of `null` or `5` is then a clear "must be an object" below, not "malformed JSON".
    express.json({
      limit: BODY_LIMIT,
      type: JSON_TYPES,
      strict: false,
      // The raw bytes are searched once; only a body with the escape is walked.
      verify: (req, _res, buf) => {
        if (buf.includes(NUL_ESCAPE)) mayHoldNul.add(req as Request);
      },
    }),
    (req, _res, next) => {
      if (req.body !== undefined && !isPlainObject(req.body)) {
        throw AppError.badRequest('the request body must be a JSON object', [
          { field: '(body)', message: 'must be an object' },
        ]);
      }
      const field = mayHoldNul.has(req) ? nulField(req.body, '') : undefined;
      if (field) {
        throw AppError.badRequest(`${field} must not contain a NUL character`, [
          { field, message: 'must not contain a NUL character' },
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
