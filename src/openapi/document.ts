/**
 * The OpenAPI 3.1 document of the API, built from the routes' own declarations (operation.ts):
 * request schemas are the zod schemas the routes validate with, converted by zod's JSON Schema
 * export (draft 2020-12, the dialect of OpenAPI 3.1). The error answers every route shares
 * (auth, admission control, body parsing) are added here, once.
 */
import { z } from 'zod';
import type { ApiOperation, ApiResponse } from './operation';
import { errorSchema } from './responses';

type JsonSchema = Record<string, unknown>;

/** A zod schema as JSON Schema: `input` for what a request may send, `output` for answers. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // `unrepresentable: 'any'`: refinements and transforms have no JSON Schema; their checks stay
  // in the route (a 400 or 422 the document lists), the document says what the shape is.
  const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** `/v3/x/:id` → `/v3/x/{id}`. */
export const openApiPath = (expressPath: string) => expressPath.replace(/:(\w+)/g, '{$1}');

const RETRY_AFTER = { description: 'Seconds to wait before trying again', schema: { type: 'integer' } };

const errorAnswer = (description: string, retryAfter = false): ApiResponse => ({
  description,
  schema: errorSchema,
  ...(retryAfter ? { headers: { 'Retry-After': RETRY_AFTER.description } } : {}),
});

/** The answers the app's shared middleware may give on top of a route's own. */
function sharedResponses(op: ApiOperation): Record<number, ApiResponse> {
  const shared: Record<number, ApiResponse> = {};
  const api = op.path.startsWith('/v3/');
  if (api) {
    shared[400] = errorAnswer('Malformed request: bad JSON, a body that is not an object, or a bad field');
    shared[413] = errorAnswer('The body is larger than the limit');
    shared[415] = errorAnswer('A body sent with a Content-Type other than application/json');
    shared[503] = errorAnswer(
      'At capacity, past the request deadline, or the store, Temporal or the template engine unavailable',
      true,
    );
  }
  if (op.access !== 'public') {
    shared[401] = errorAnswer('Missing, invalid or revoked API key');
    shared[429] = errorAnswer('Too many requests with a bad API key from this address', true);
  }
  if (op.access === 'manager') {
    shared[403] = errorAnswer('The key is neither an owner nor a holder of manage_webhook');
  }
  return shared;
}

/** The error shape is shared by every answer of 4xx and 5xx: one component, referenced. */
const schemaOrRef = (schema: z.ZodType): JsonSchema =>
  schema === errorSchema ? { $ref: '#/components/schemas/Error' } : jsonSchemaOf(schema, 'output');

/** The operationId of `method path` (Express path), unique per route. */
export const operationIdOf = (method: string, path: string) =>
  `${method}${path.replace(/[^A-Za-z0-9]+(\w)?/g, (_, c: string = '') => c.toUpperCase())}`;

function responseObject(r: ApiResponse): JsonSchema {
  return {
    description: r.description,
    ...(r.links
      ? {
          links: Object.fromEntries(
            Object.entries(r.links).map(([name, l]) => [
              name,
              { operationId: operationIdOf(l.method, l.path), parameters: l.parameters },
            ]),
          ),
        }
      : {}),
    ...(r.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(r.headers).map(([name, description]) => [
              name,
              { description, schema: name === 'Retry-After' ? RETRY_AFTER.schema : { type: 'string' } },
            ]),
          ),
        }
      : {}),
    ...(r.schema ? { content: { [r.contentType ?? 'application/json']: { schema: schemaOrRef(r.schema) } } } : {}),
  };
}

function queryParameters(query: z.ZodObject): JsonSchema[] {
  const json = jsonSchemaOf(query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: (json.required ?? []).includes(name),
    schema,
  }));
}

function operationObject(op: ApiOperation): JsonSchema {
  const parameters = [
    ...Object.entries(op.params ?? {}).map(([name, description]) => ({
      name,
      in: 'path',
      required: true,
      description,
      schema: { type: 'string', minLength: 1 },
    })),
    ...(op.query ? queryParameters(op.query) : []),
  ];
  const responses = { ...sharedResponses(op), ...op.responses };
  return {
    operationId: operationIdOf(op.method, op.path),
    summary: op.summary,
    tags: [op.tag],
    security: op.access === 'public' ? [] : [{ bearerAuth: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: op.body.required,
            content: {
              'application/json': {
                schema: jsonSchemaOf(op.body.schema, 'input'),
                ...(op.body.example === undefined ? {} : { example: op.body.example }),
              },
            },
          },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(responses)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([status, r]) => [status, responseObject(r)]),
    ),
  };
}

export interface DocumentInfo {
  title: string;
  version: string;
  description?: string;
}

/** The whole document; `operations` are every route's declarations. */
export function openApiDocument(info: DocumentInfo, operations: readonly ApiOperation[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const ids = new Set(operations.map((op) => operationIdOf(op.method, op.path)));
  for (const op of operations) {
    for (const r of Object.values(op.responses)) {
      for (const l of Object.values(r.links ?? {})) {
        if (!ids.has(operationIdOf(l.method, l.path))) throw new Error(`link to undeclared ${l.method} ${l.path}`);
      }
    }
    const path = openApiPath(op.path);
    paths[path] ??= {};
    if (paths[path][op.method]) throw new Error(`operation ${op.method} ${op.path} declared twice`);
    paths[path][op.method] = operationObject(op);
  }
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ bearerAuth: [] }],
    components: {
      schemas: { Error: jsonSchemaOf(errorSchema, 'output') },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key (npm run admin -- create-key)' },
      },
    },
    paths,
  };
}
