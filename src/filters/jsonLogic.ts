/**
 * Which json-logic a webhook may store: only json-logic-js's built-in operators, minus `log`
 * (it writes to the console), so that a rule evaluates the same in the API and in the workflow
 * sandbox and can do nothing but compute. Pure: workflow code imports it.
 */
export const BUILT_IN_OPERATORS: ReadonlySet<string> = new Set([
  'var',
  'missing',
  'missing_some',
  'if',
  '?:',
  '==',
  '===',
  '!=',
  '!==',
  '!',
  '!!',
  'or',
  'and',
  '>',
  '>=',
  '<',
  '<=',
  'max',
  'min',
  '+',
  '-',
  '*',
  '/',
  '%',
  'cat',
  'substr',
  'in',
  'merge',
  'map',
  'filter',
  'reduce',
  'all',
  'none',
  'some',
]);

export const MAX_JSON_LOGIC_DEPTH = 32;

const FORBIDDEN_PATH_PARTS = new Set(['__proto__', 'prototype', 'constructor']);

export interface LogicProblem {
  /** Where in the rule, as a dotted path relative to the rule (empty for the rule itself). */
  path: string;
  message: string;
}

/**
 * Every problem with a json-logic rule: unknown operators, `var` paths reaching into object
 * prototypes, nesting deeper than MAX_JSON_LOGIC_DEPTH. An object with exactly one key is an
 * operation (as json-logic-js reads it); other objects and scalars are literals.
 */
export function checkJsonLogic(rule: unknown): LogicProblem[] {
  const problems: LogicProblem[] = [];
  const join = (path: string, part: string | number) => (path ? `${path}.${part}` : String(part));
  const visit = (node: unknown, path: string, depth: number): void => {
    if (depth > MAX_JSON_LOGIC_DEPTH) {
      problems.push({ path, message: `json-logic is nested deeper than ${MAX_JSON_LOGIC_DEPTH} levels` });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, join(path, i), depth + 1));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const keys = Object.keys(node);
    if (keys.length !== 1) return;
    const op = keys[0];
    const args = (node as Record<string, unknown>)[op];
    if (!BUILT_IN_OPERATORS.has(op)) {
      problems.push({ path, message: `"${op}" is not a built-in json-logic operator` });
      return;
    }
    if (op === 'var' || op === 'missing' || op === 'missing_some') {
      // Paths must be literals: a computed path (e.g. built with "cat") could not be checked here.
      const list = Array.isArray(args) ? args : [args];
      const names = op === 'var' ? list.slice(0, 1) : op === 'missing' ? list : [list[1]].flat();
      for (const name of names) {
        if (name !== null && typeof name !== 'string' && typeof name !== 'number') {
          problems.push({ path: join(path, op), message: `the ${op} path must be a literal string` });
        } else if (typeof name === 'string' && name.split('.').some((p) => FORBIDDEN_PATH_PARTS.has(p))) {
          problems.push({ path: join(path, op), message: `the path "${name}" is not allowed` });
        }
      }
    }
    visit(args, join(path, op), depth + 1);
  };
  visit(rule, '', 0);
  return problems;
}
