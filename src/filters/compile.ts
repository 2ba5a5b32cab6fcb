/**
 * Squadcast-style filters, checked and compiled to json-logic over `filterFacts` at save. Only
 * built-in json-logic operators are emitted, so the API and the workflow sandbox agree on every
 * rule. Raw json-logic is accepted as `{json_logic: rule}` and checked the same way.
 */
import { checkJsonLogic } from './jsonLogic';
import { PRIORITIES } from './facts';
import { isPlainObject } from '../shared/json';

export const FILTER_GROUP_OPS = ['and', 'or'] as const;
export const FILTER_CONDITION_OPS = ['is', 'is_not', 'in', 'not_in', 'contains'] as const;
export const FILTER_LHS = ['team', 'service', 'alert_source', 'priority'] as const;
export const TAG_LHS_PREFIX = 'tag:';
export const MAX_FILTER_DEPTH = 5;
export const MAX_FILTER_BYTES = 20 * 1024;
export const MAX_RHS_VALUES = 100;

export type GroupOp = (typeof FILTER_GROUP_OPS)[number];
export type ConditionOp = (typeof FILTER_CONDITION_OPS)[number];

export interface FilterCondition {
  op: ConditionOp;
  lhs: string;
  rhs: string | string[];
}
export interface FilterGroup {
  op: GroupOp;
  conditions: (FilterCondition | FilterGroup)[];
}
export type Filters = FilterGroup | { json_logic: unknown };

export type JsonLogicRule = unknown;

export interface FilterProblem {
  /** Dotted path inside the filters value (`conditions.0.rhs`); empty for the value itself. */
  path: string;
  message: string;
}

export type CompiledFilters = { ok: true; logic: JsonLogicRule | null } | { ok: false; problems: FilterProblem[] };

/** The fact paths a `lhs` is compared on: the id, and also the name, slug or short name. */
const FACT_PATHS: Record<(typeof FILTER_LHS)[number], string[]> = {
  team: ['team.id', 'team.name'],
  service: ['service.id', 'service.name', 'service.slug'],
  alert_source: ['alert_source.id', 'alert_source.short_name', 'alert_source.type'],
  priority: ['priority'],
};

const join = (path: string, part: string | number) => (path ? `${path}.${part}` : String(part));

const anyOf = (rules: JsonLogicRule[]) => (rules.length === 1 ? rules[0] : { or: rules });

/** The json-logic for one condition whose rhs has been checked. */
function compileCondition(op: ConditionOp, lhs: string, rhs: string | string[]): JsonLogicRule {
  const negate = op === 'is_not' || op === 'not_in';
  let rule: JsonLogicRule;
  if (lhs.startsWith(TAG_LHS_PREFIX)) {
    const key = lhs.slice(TAG_LHS_PREFIX.length);
    const value = { var: 'value' };
    const test =
      op === 'is' || op === 'is_not'
        ? { '===': [value, rhs] }
        : op === 'in' || op === 'not_in'
          ? { in: [value, rhs] }
          : { in: [rhs, value] };
    rule = { some: [{ var: 'tags' }, { and: [{ '===': [{ var: 'key' }, key] }, test] }] };
  } else {
    const paths = FACT_PATHS[lhs as keyof typeof FACT_PATHS];
    rule = anyOf(
      paths.map((p) =>
        op === 'is' || op === 'is_not'
          ? { '===': [{ var: p }, rhs] }
          : op === 'in' || op === 'not_in'
            ? { in: [{ var: p }, rhs] }
            : { in: [rhs, { var: p }] },
      ),
    );
  }
  return negate ? { '!': rule } : rule;
}

function checkLhs(lhs: unknown): string | null {
  if (typeof lhs !== 'string') return 'must be a string';
  if ((FILTER_LHS as readonly string[]).includes(lhs)) return null;
  if (lhs.startsWith(TAG_LHS_PREFIX)) {
    return lhs.length > TAG_LHS_PREFIX.length ? null : 'must name a tag key after "tag:"';
  }
  return `must be one of ${FILTER_LHS.join(', ')} or tag:<key>`;
}

/** The rhs as the compiled rule compares it (priorities upper-cased), or a problem. */
function checkRhs(op: ConditionOp, lhs: string, rhs: unknown): { value: string | string[] } | { problem: string } {
  const normalize = (s: string) => (lhs === 'priority' ? s.trim().toUpperCase() : s);
  const badPriority = (s: string) =>
    lhs === 'priority' && op !== 'contains' && !(PRIORITIES as readonly string[]).includes(s);
  if (op === 'in' || op === 'not_in') {
    if (!Array.isArray(rhs) || rhs.length === 0) return { problem: `must be a non-empty array for "${op}"` };
    if (rhs.length > MAX_RHS_VALUES) return { problem: `must have at most ${MAX_RHS_VALUES} values` };
    if (!rhs.every((v) => typeof v === 'string')) return { problem: 'must be an array of strings' };
    const values = rhs.map(normalize);
    const bad = values.find(badPriority);
    if (bad !== undefined) return { problem: `"${bad}" is not a priority (${PRIORITIES.join(', ')})` };
    return { value: values };
  }
  if (typeof rhs !== 'string') return { problem: `must be a string for "${op}"` };
  if (op === 'contains' && rhs === '') return { problem: 'must not be empty for "contains"' };
  const value = normalize(rhs);
  if (badPriority(value)) return { problem: `"${value}" is not a priority (${PRIORITIES.join(', ')})` };
  return { value };
}

/** Checks a group (and everything below it) and compiles it, collecting every problem. */
function compileGroup(node: unknown, path: string, depth: number, problems: FilterProblem[]): JsonLogicRule | null {
  if (!isPlainObject(node)) {
    problems.push({ path, message: 'must be an object {op, conditions}' });
    return null;
  }
  if (depth > MAX_FILTER_DEPTH) {
    problems.push({ path, message: `groups may be nested at most ${MAX_FILTER_DEPTH} levels deep` });
    return null;
  }
  const op = node.op;
  if (!(FILTER_GROUP_OPS as readonly unknown[]).includes(op)) {
    problems.push({ path: join(path, 'op'), message: 'must be "and" or "or"' });
  }
  if (!Array.isArray(node.conditions)) {
    problems.push({ path: join(path, 'conditions'), message: 'must be an array' });
    return null;
  }
  if (node.conditions.length === 0 && depth > 1) {
    problems.push({ path: join(path, 'conditions'), message: 'a nested group needs at least one condition' });
  }
  const rules = node.conditions.map((item, i) => {
    const at = join(join(path, 'conditions'), i);
    if (isPlainObject(item) && 'conditions' in item) return compileGroup(item, at, depth + 1, problems);
    return compileOne(item, at, problems);
  });
  if (node.conditions.length === 0) return null;
  return { [op === 'or' ? 'or' : 'and']: rules };
}

function compileOne(node: unknown, path: string, problems: FilterProblem[]): JsonLogicRule | null {
  if (!isPlainObject(node)) {
    problems.push({ path, message: 'must be a condition {op, lhs, rhs} or a group {op, conditions}' });
    return null;
  }
  const before = problems.length;
  const op = node.op as ConditionOp;
  if (!(FILTER_CONDITION_OPS as readonly unknown[]).includes(op)) {
    problems.push({ path: join(path, 'op'), message: `must be one of ${FILTER_CONDITION_OPS.join(', ')}` });
  }
  const lhsProblem = checkLhs(node.lhs);
  if (lhsProblem) problems.push({ path: join(path, 'lhs'), message: lhsProblem });
  if (problems.length > before) return null;
  const rhs = checkRhs(op, node.lhs as string, node.rhs);
  if ('problem' in rhs) {
    problems.push({ path: join(path, 'rhs'), message: rhs.problem });
    return null;
  }
  return compileCondition(op, node.lhs as string, rhs.value);
}

/**
 * Checks a webhook's `filters` and compiles them. `null`/absent, or a top-level group without
 * conditions, compiles to `null` (every event matches). Every problem is reported, not the first.
 */
export function compileFilters(filters: unknown): CompiledFilters {
  if (filters === null || filters === undefined) return { ok: true, logic: null };
  if (!isPlainObject(filters)) {
    return { ok: false, problems: [{ path: '', message: 'must be an object {op, conditions} or {json_logic}' }] };
  }
  const bytes = new TextEncoder().encode(JSON.stringify(filters)).length;
  if (bytes > MAX_FILTER_BYTES) {
    return { ok: false, problems: [{ path: '', message: `must be at most ${MAX_FILTER_BYTES} bytes as JSON` }] };
  }
  if ('json_logic' in filters) {
    const extra = Object.keys(filters).filter((k) => k !== 'json_logic');
    const problems: FilterProblem[] = extra.map((k) => ({ path: k, message: 'is not allowed beside json_logic' }));
    if (filters.json_logic === undefined || filters.json_logic === null) {
      problems.push({ path: 'json_logic', message: 'must be a json-logic rule' });
    } else {
      for (const p of checkJsonLogic(filters.json_logic)) {
        problems.push({ path: p.path ? `json_logic.${p.path}` : 'json_logic', message: p.message });
      }
    }
    return problems.length ? { ok: false, problems } : { ok: true, logic: filters.json_logic };
  }
  const problems: FilterProblem[] = [];
  const logic = compileGroup(filters, '', 1, problems);
  return problems.length ? { ok: false, problems } : { ok: true, logic };
}

/** True when the filters restrict nothing: null, or a group without conditions. */
export function isEmptyFilters(filters: unknown): boolean {
  return (
    filters === null ||
    filters === undefined ||
    (isPlainObject(filters) && Array.isArray(filters.conditions) && filters.conditions.length === 0)
  );
}
