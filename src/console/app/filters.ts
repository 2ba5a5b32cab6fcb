/**
 * The filter builder's model and its mapping to and from the API's `filters` value. Pure (no DOM,
 * no JSX), so unit tests run it in Node. The API shape: `{op: "and"|"or", conditions: [...]}` where
 * a condition is `{op, lhs, rhs}` and a nested group has the same shape; or `{json_logic: rule}`.
 */

export const CONDITION_OPS = ['is', 'is_not', 'in', 'not_in', 'contains'] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];
export const GROUP_OPS = ['and', 'or'] as const;
export type GroupOp = (typeof GROUP_OPS)[number];
export const SUBJECTS = ['team', 'service', 'alert_source', 'priority', 'tag'] as const;
export type Subject = (typeof SUBJECTS)[number];
const TAG_PREFIX = 'tag:';

export const OP_LABELS: Record<ConditionOp, string> = {
  is: 'is',
  is_not: 'is not',
  in: 'in',
  not_in: 'not in',
  contains: 'contains',
};
export const SUBJECT_LABELS: Record<Subject, string> = {
  team: 'Team',
  service: 'Service',
  alert_source: 'Alert source',
  priority: 'Priority',
  tag: 'Tag',
};

/** `in` and `not_in` compare against a list; the others against one value. */
export const takesList = (op: ConditionOp): boolean => op === 'in' || op === 'not_in';

export interface ConditionNode {
  kind: 'condition';
  id: number;
  subject: Subject;
  /** The tag key when `subject` is `tag`. */
  tagKey: string;
  op: ConditionOp;
  /** One value, or several for `in` / `not_in`. */
  values: string[];
}
export interface GroupNode {
  kind: 'group';
  id: number;
  op: GroupOp;
  children: FilterNode[];
}
export type FilterNode = ConditionNode | GroupNode;

export type FilterModel = { mode: 'none' } | { mode: 'builder'; root: GroupNode } | { mode: 'raw'; text: string };

export interface ApiCondition {
  op: ConditionOp;
  lhs: string;
  rhs: string | string[];
}
export interface ApiGroup {
  op: GroupOp;
  conditions: (ApiCondition | ApiGroup)[];
}
export type ApiFilters = ApiGroup | { json_logic: unknown } | null;

let nextId = 1;
const newId = () => nextId++;

export const newCondition = (): ConditionNode => ({
  kind: 'condition',
  id: newId(),
  subject: 'team',
  tagKey: '',
  op: 'is',
  values: [''],
});
export const newGroup = (op: GroupOp = 'and', children: FilterNode[] = [newCondition()]): GroupNode => ({
  kind: 'group',
  id: newId(),
  op,
  children,
});

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function conditionFromApi(c: Record<string, unknown>): ConditionNode | null {
  const op = c.op as ConditionOp;
  if (!CONDITION_OPS.includes(op) || typeof c.lhs !== 'string') return null;
  let subject: Subject;
  let tagKey = '';
  if (c.lhs.startsWith(TAG_PREFIX)) {
    subject = 'tag';
    tagKey = c.lhs.slice(TAG_PREFIX.length);
  } else if ((SUBJECTS as readonly string[]).includes(c.lhs) && c.lhs !== 'tag') {
    subject = c.lhs as Subject;
  } else return null;
  const rhs = c.rhs;
  // The list ops need a list, the others one string: any other shape is kept in raw mode.
  if (takesList(op) ? !Array.isArray(rhs) || rhs.some((v) => typeof v !== 'string') : typeof rhs !== 'string') {
    return null;
  }
  return {
    kind: 'condition',
    id: newId(),
    subject,
    tagKey,
    op,
    values: takesList(op) ? [...(rhs as string[])] : [rhs as string],
  };
}

function groupFromApi(g: unknown): GroupNode | null {
  if (!isObject(g) || !GROUP_OPS.includes(g.op as GroupOp) || !Array.isArray(g.conditions)) return null;
  const children: FilterNode[] = [];
  for (const c of g.conditions) {
    const node = isObject(c) && 'conditions' in c ? groupFromApi(c) : isObject(c) ? conditionFromApi(c) : null;
    if (!node) return null;
    children.push(node);
  }
  return { kind: 'group', id: newId(), op: g.op as GroupOp, children };
}

/**
 * The model for a stored `filters` value: none, the builder, or raw json-logic. Anything the
 * builder cannot show faithfully opens in raw mode as the JSON it is, never altered.
 */
export function filtersFromApi(filters: unknown): FilterModel {
  if (filters === null || filters === undefined) return { mode: 'none' };
  if (isObject(filters) && 'json_logic' in filters && Object.keys(filters).length === 1) {
    return { mode: 'raw', text: JSON.stringify(filters.json_logic, null, 2) };
  }
  const root = groupFromApi(filters);
  if (root) return { mode: 'builder', root };
  return { mode: 'raw', text: JSON.stringify(filters, null, 2) };
}

function conditionToApi(c: ConditionNode): ApiCondition {
  const lhs = c.subject === 'tag' ? `${TAG_PREFIX}${c.tagKey.trim()}` : c.subject;
  const values = c.values.map((v) => v.trim());
  return { op: c.op, lhs, rhs: takesList(c.op) ? values.filter((v) => v !== '') : (values[0] ?? '') };
}

function groupToApi(g: GroupNode): ApiGroup {
  return {
    op: g.op,
    conditions: g.children.map((n) => (n.kind === 'group' ? groupToApi(n) : conditionToApi(n))),
  };
}

export type ToApiResult = { ok: true; filters: ApiFilters } | { ok: false; message: string };

/** The API's `filters` value for the model; raw text that is not JSON is an error to show. */
export function filtersToApi(model: FilterModel): ToApiResult {
  if (model.mode === 'none') return { ok: true, filters: null };
  if (model.mode === 'builder') return { ok: true, filters: groupToApi(model.root) };
  const text = model.text.trim();
  if (!text) return { ok: true, filters: null };
  try {
    return { ok: true, filters: { json_logic: JSON.parse(text) as unknown } };
  } catch (err) {
    return { ok: false, message: `the json-logic rule is not JSON: ${(err as Error).message}` };
  }
}

/** A copy of the tree with `fn` applied to the node with `id` (returning null removes it). */
export function updateNode(root: GroupNode, id: number, fn: (n: FilterNode) => FilterNode | null): GroupNode {
  const walk = (n: FilterNode): FilterNode | null => {
    if (n.id === id) return fn(n);
    if (n.kind === 'condition') return n;
    return { ...n, children: n.children.map(walk).filter((c): c is FilterNode => c !== null) };
  };
  return (walk(root) as GroupNode | null) ?? newGroup('and', []);
}

/** The depth of the deepest group (the root is 1); the API accepts up to 5. */
export const groupDepth = (g: GroupNode): number =>
  1 + Math.max(0, ...g.children.map((c) => (c.kind === 'group' ? groupDepth(c) : 0)));
