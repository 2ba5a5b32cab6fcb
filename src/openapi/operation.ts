/**
 * What a route declares about itself for the OpenAPI document: the same zod schemas the route
 * validates its query and body with (so the document cannot drift from what is enforced), and
 * schemas of what it answers. Each routes module exports its list next to its router; a test
 * checks that every route the app mounts is declared.
 */
import type { z } from 'zod';

/** `public`: no key. `key`: any valid API key. `manager`: an owner or a `manage_webhook` holder. */
export type Access = 'public' | 'key' | 'manager';

export interface ApiResponse {
  description: string;
  /** The body (JSON unless `contentType` says otherwise); none for an empty answer (204). */
  schema?: z.ZodType;
  contentType?: string;
  /** Response headers the caller may rely on, name → description. */
  headers?: Record<string, string>;
  /**
   * OpenAPI links: operations this answer's values feed (a created webhook's id into its reads),
   * so clients and stateful fuzzers can follow them. Parameters are runtime expressions.
   */
  links?: Record<string, { method: ApiOperation['method']; path: string; parameters: Record<string, string> }>;
}

export interface ApiOperation {
  method: 'get' | 'post' | 'put' | 'delete';
  /** The path as Express mounts it (`/v3/…/:id`). */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  /** Path parameters, name → description (all strings). */
  params?: Record<string, string>;
  /** The object schema the route parses `req.query` with. */
  query?: z.ZodObject;
  /**
   * The schema the route parses the body with; `required: false` for an optional body. `example`:
   * a body the route accepts (a unit test parses it with `schema`), which clients and fuzzers start from.
   */
  body?: { schema: z.ZodType; required: boolean; example?: unknown };
  /** The answers specific to this route; the shared error answers are added by the document. */
  responses: Record<number, ApiResponse>;
}
