/**
 * Which json-logic a webhook may store: only json-logic-js's built-in operators, minus `log`
 * (it writes to the console), so that a rule evaluates the same in the API and in the workflow
 * sandbox and can do nothing but compute; and of those, only the ones whose cost is bounded (see
 * UNBOUNDED_OPERATORS, ITERATING_OPERATORS). Pure: workflow code imports it.
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

/**
 * Built-in operators a stored rule may not use, each with the reason. A rule is evaluated for
 * every event in the shared workflow worker, so its cost must stay bounded by (rule size × event
 * size); these operators break that bound. json-logic-js evaluates each of them eagerly into a new
 * value, and together they let a few hundred bytes build gigabytes (reduce + cat doubles a string
 * at every step, map multiplies that again) and crash the worker for every organization. The
 * filter compiler never emits them, and matching on event facts does not need them: `in` tests
 * substrings and list membership, `some`/`all`/`none` test the tags. `substr` stays: its result is
 * never longer than its input, so it cannot amplify (and it is how a rule matches a prefix).
 */
export const UNBOUNDED_OPERATORS: ReadonlyMap<string, string> = new Map([
  ['map', 'it builds a new array from every element'],
  ['filter', 'it builds a new array from the elements'],
  ['reduce', 'it carries an accumulator across elements, which can double at every step'],
  ['merge', 'it concatenates arrays into a new one'],
  ['cat', 'it concatenates strings into a new one'],
]);

/**
 * Operators that evaluate a predicate once per element of an array. They stay (tag conditions
 * compile to `some` over `{var: "tags"}`), but only over event data and never nested, so their
 * work is at most (length of an event array × rule size): a literal or computed array would let
 * the rule choose how much work it causes, and nesting would multiply the lengths. Literals (the
 * list in `in`, say) need no limit of their own: a rule's JSON is at most MAX_FILTER_BYTES
 * (compile.ts), and each literal is then evaluated at most once per element of one event array.
 */
export const ITERATING_OPERATORS: ReadonlySet<string> = new Set(['some', 'all', 'none']);

/** Operators a stored rule may use: the built-ins minus the unbounded ones. */
export const ALLOWED_OPERATORS: ReadonlySet<string> = new Set(
  [...BUILT_IN_OPERATORS].filter((op) => !UNBOUNDED_OPERATORS.has(op)),
);

const FORBIDDEN_PATH_PARTS = new Set(['__proto__', 'prototype', 'constructor']);

export interface LogicProblem {
  /** Where in the rule, as a dotted path relative to the rule (empty for the rule itself). */
  path: string;
  message: string;
}

const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/**
 * `{var: path}`, `{var: [path]}` or `{var: [path, default]}` with literal scalars only: event data
 * (an array here only if the event holds one), never a literal or computed array.
 */
function isDataVar(node: unknown): boolean {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return false;
  const keys = Object.keys(node);
  if (keys.length !== 1 || keys[0] !== 'var') return false;
  const args = (node as Record<string, unknown>).var;
  const list = Array.isArray(args) ? args : [args];
  return list.length >= 1 && list.length <= 2 && list.every(isScalar);
}

/**
 * Every problem with a json-logic rule: unknown operators, operators whose cost is unbounded
 * (UNBOUNDED_OPERATORS), iteration over anything but event data or nested inside another
 * iteration, `var` paths reaching into object prototypes, nesting deeper than
 * MAX_JSON_LOGIC_DEPTH. An object with exactly one key is an operation (as json-logic-js reads
 * it); other objects and scalars are literals, which json-logic-js returns without evaluating.
 */
export function checkJsonLogic(rule: unknown): LogicProblem[] {
  const problems: LogicProblem[] = [];
  const join = (path: string, part: string | number) => (path ? `${path}.${part}` : String(part));
  // `iteration`: the iterating operator whose predicate `node` is in, if any.
  const visit = (node: unknown, path: string, depth: number, iteration: string | null): void => {
    if (depth > MAX_JSON_LOGIC_DEPTH) {
      problems.push({ path, message: `json-logic is nested deeper than ${MAX_JSON_LOGIC_DEPTH} levels` });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, join(path, i), depth + 1, iteration));
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
    const unbounded = UNBOUNDED_OPERATORS.get(op);
    if (unbounded) {
      // Reported, and its arguments still checked, so that every problem is named at once.
      problems.push({
        path,
        message: `"${op}" is not allowed in filters (${unbounded}): a small rule could build huge values and exhaust the worker's memory`,
      });
    }
    if (op === 'var' || op === 'missing' || op === 'missing_some') {
      // Paths must be literals: a computed path could not be checked here.
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
    if (ITERATING_OPERATORS.has(op)) {
      const at = join(path, op);
      if (iteration !== null) {
        problems.push({
          path,
          message: `"${op}" may not be used inside the predicate of "${iteration}": nested iteration multiplies the work`,
        });
      }
      if (!Array.isArray(args) || args.length !== 2) {
        problems.push({ path: at, message: `"${op}" takes two arguments: [{"var": "<path>"}, <predicate>]` });
        visit(args, at, depth + 1, iteration);
        return;
      }
      if (!isDataVar(args[0])) {
        problems.push({
          path: join(at, 0),
          message: `"${op}" may only iterate over event data, {"var": "<path>"}, not over a literal or computed array`,
        });
      }
      visit(args[0], join(at, 0), depth + 2, iteration);
      visit(args[1], join(at, 1), depth + 2, op);
      return;
    }
    visit(args, join(path, op), depth + 1, iteration);
  };
  visit(rule, '', 0, null);
  return problems;
}
