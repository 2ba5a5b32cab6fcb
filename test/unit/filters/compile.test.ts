import triggered from '../../../src/payloads/fixtures/v2/incident-triggered.json';
import taskCreated from '../../../src/payloads/fixtures/v2/incident-task-created.json';
import notesCreated from '../../../src/payloads/fixtures/v2/incident-notes-created.json';
import {
  compileFilters,
  FILTER_CONDITION_OPS,
  FILTER_LHS,
  MAX_FILTER_DEPTH,
  MAX_RHS_VALUES,
  type FilterProblem,
} from '../../../src/filters/compile';
import { evaluateFilter } from '../../../src/filters/evaluate';
import { ALLOWED_OPERATORS, checkJsonLogic, UNBOUNDED_OPERATORS } from '../../../src/filters/jsonLogic';
import type { EventEnvelopeV2 } from '../../../src/shared/types';

/** incident.triggered: the incident is resource_data; tags null; no priority. */
const untagged = triggered as unknown as EventEnvelopeV2;
/** incident_task_created: the incident is data.incident; tags {severity: critical}. */
const tagged = taskCreated as unknown as EventEnvelopeV2;
/** incident_notes_created: resource_data is a note, so service etc. must come from data.incident. */
const note = notesCreated as unknown as EventEnvelopeV2;

function withIncident(event: EventEnvelopeV2, change: (incident: any) => void): EventEnvelopeV2 {
  const copy = structuredClone(event);
  change(copy.data.incident ?? copy.data.resource_data);
  return copy;
}
const p1 = withIncident(untagged, (i) => (i.priority = 'P1'));
const dotted = withIncident(tagged, (i) => (i.tags = { 'k8s.io/cluster': { value: 'prod.eu-1', color: '#fff' } }));

function compiled(filters: unknown): string | null {
  const result = compileFilters(filters);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.logic === null ? null : JSON.stringify(result.logic);
}
const matches = (filters: unknown, event: EventEnvelopeV2) => evaluateFilter(compiled(filters), event);
function problemsOf(filters: unknown): FilterProblem[] {
  const result = compileFilters(filters);
  return result.ok ? [] : result.problems;
}
const one = (op: string, lhs: string, rhs: unknown) => ({ op: 'and', conditions: [{ op, lhs, rhs }] });

type Row = [lhs: string, op: string, rhs: unknown, event: EventEnvelopeV2, eventName: string, expected: boolean];
const rows: Row[] = [
  ['team', 'is', '6196371cda7b4ab764b13a1f', untagged, 'triggered', true],
  ['team', 'is', 'Yash', untagged, 'triggered', true],
  ['team', 'is', 'platform', untagged, 'triggered', false],
  ['team', 'is_not', 'Yash', untagged, 'triggered', false],
  ['team', 'is_not', 'platform', untagged, 'triggered', true],
  ['team', 'in', ['platform', '6196371cda7b4ab764b13a1f'], untagged, 'triggered', true],
  ['team', 'in', ['platform'], untagged, 'triggered', false],
  ['team', 'not_in', ['platform'], untagged, 'triggered', true],
  ['team', 'not_in', ['Yash'], untagged, 'triggered', false],
  ['team', 'contains', 'Ya', untagged, 'triggered', true],
  ['team', 'contains', 'plat', untagged, 'triggered', false],
  ['service', 'is', '62f0fdde613c98528db9f8bc', note, 'notes_created', true],
  ['service', 'is', 'Service Test2', note, 'notes_created', true],
  ['service', 'is', 'service-test2', untagged, 'triggered', true],
  ['service', 'is', 'billing', untagged, 'triggered', false],
  ['service', 'is_not', 'service-test2', note, 'notes_created', false],
  ['service', 'is_not', 'billing', note, 'notes_created', true],
  ['service', 'in', ['billing', 'service-test2'], untagged, 'triggered', true],
  ['service', 'in', ['billing'], untagged, 'triggered', false],
  ['service', 'not_in', ['billing'], untagged, 'triggered', true],
  ['service', 'not_in', ['Service Test2'], untagged, 'triggered', false],
  ['service', 'contains', 'Test', note, 'notes_created', true],
  ['service', 'contains', 'billing', note, 'notes_created', false],
  ['alert_source', 'is', '6077f7225fdc7075e371685f', untagged, 'triggered', true],
  ['alert_source', 'is', 'squadcastui', untagged, 'triggered', true],
  ['alert_source', 'is', 'Squadcast UI', untagged, 'triggered', true],
  ['alert_source', 'is', 'prometheus', untagged, 'triggered', false],
  ['alert_source', 'is_not', 'squadcastui', untagged, 'triggered', false],
  ['alert_source', 'is_not', 'prometheus', untagged, 'triggered', true],
  ['alert_source', 'in', ['prometheus', 'squadcastui'], note, 'notes_created', true],
  ['alert_source', 'in', ['prometheus'], note, 'notes_created', false],
  ['alert_source', 'not_in', ['prometheus'], note, 'notes_created', true],
  ['alert_source', 'not_in', ['squadcastui'], note, 'notes_created', false],
  ['alert_source', 'contains', 'squadcast', untagged, 'triggered', true],
  ['alert_source', 'contains', 'grafana', untagged, 'triggered', false],
  ['priority', 'is', 'UNSET', untagged, 'triggered without priority', true],
  ['priority', 'is', 'P1', untagged, 'triggered without priority', false],
  ['priority', 'is', 'P1', p1, 'triggered with P1', true],
  ['priority', 'is', 'p1', p1, 'triggered with P1', true],
  ['priority', 'is', 'P2', p1, 'triggered with P1', false],
  ['priority', 'is_not', 'P1', p1, 'triggered with P1', false],
  ['priority', 'is_not', 'P1', untagged, 'triggered without priority', true],
  ['priority', 'in', ['P1', 'P2'], p1, 'triggered with P1', true],
  ['priority', 'in', ['P1', 'P2'], untagged, 'triggered without priority', false],
  ['priority', 'not_in', ['P1', 'P2'], p1, 'triggered with P1', false],
  ['priority', 'not_in', ['P1', 'P2'], untagged, 'triggered without priority', true],
  ['priority', 'contains', 'UN', untagged, 'triggered without priority', true],
  ['priority', 'contains', 'P', p1, 'triggered with P1', true],
  ['priority', 'contains', '2', p1, 'triggered with P1', false],
  ['tag:severity', 'is', 'critical', tagged, 'task_created', true],
  ['tag:severity', 'is', 'low', tagged, 'task_created', false],
  ['tag:severity', 'is_not', 'critical', tagged, 'task_created', false],
  ['tag:severity', 'is_not', 'low', tagged, 'task_created', true],
  ['tag:severity', 'in', ['low', 'critical'], tagged, 'task_created', true],
  ['tag:severity', 'in', ['low'], tagged, 'task_created', false],
  ['tag:severity', 'not_in', ['low'], tagged, 'task_created', true],
  ['tag:severity', 'not_in', ['critical'], tagged, 'task_created', false],
  ['tag:severity', 'contains', 'crit', tagged, 'task_created', true],
  ['tag:severity', 'contains', 'low', tagged, 'task_created', false],
  ['tag:team', 'is', 'critical', tagged, 'task_created (no such tag)', false],
  ['tag:severity', 'is', 'critical', untagged, 'triggered (tags null)', false],
  ['tag:severity', 'is', '', untagged, 'triggered (tags null)', false],
  ['tag:severity', 'in', ['critical'], untagged, 'triggered (tags null)', false],
  ['tag:severity', 'contains', 'c', untagged, 'triggered (tags null)', false],
  ['tag:severity', 'is_not', 'critical', untagged, 'triggered (tags null)', true],
  ['tag:severity', 'not_in', ['critical'], untagged, 'triggered (tags null)', true],
  ['tag:k8s.io/cluster', 'is', 'prod.eu-1', dotted, 'a dotted tag key', true],
  ['tag:k8s.io/cluster', 'is', 'prod', dotted, 'a dotted tag key', false],
  ['tag:k8s.io/cluster', 'contains', 'prod.', dotted, 'a dotted tag key', true],
  ['tag:k8s', 'is', 'prod.eu-1', dotted, 'a dotted tag key', false],
];

describe('compiled Squadcast filters', () => {
  const table = rows.map(([lhs, op, rhs, event, on, expected]) => ({ lhs, op, rhs, event, on, expected }));
  test.each(table)('when $lhs $op $rhs is evaluated on $on, then it matches: $expected', (row) => {
    expect(matches(one(row.op, row.lhs, row.rhs), row.event)).toBe(row.expected);
  });

  test('when filters are null, absent or have no conditions, then every event matches', () => {
    expect(compiled(null)).toBeNull();
    expect(compiled(undefined)).toBeNull();
    expect(compiled({ op: 'and', conditions: [] })).toBeNull();
    expect(matches({ op: 'or', conditions: [] }, untagged)).toBe(true);
  });

  test('when conditions are joined by and, then all must hold; by or, then one is enough', () => {
    const team = { op: 'is', lhs: 'team', rhs: 'Yash' };
    const wrongService = { op: 'is', lhs: 'service', rhs: 'billing' };
    expect(matches({ op: 'and', conditions: [team, wrongService] }, untagged)).toBe(false);
    expect(matches({ op: 'or', conditions: [team, wrongService] }, untagged)).toBe(true);
  });

  test('when groups are nested, then each group combines its own conditions', () => {
    // team is Yash AND (priority is P1 OR (tag severity is critical AND service is service-test2))
    const filters = {
      op: 'and',
      conditions: [
        { op: 'is', lhs: 'team', rhs: 'Yash' },
        {
          op: 'or',
          conditions: [
            { op: 'is', lhs: 'priority', rhs: 'P1' },
            {
              op: 'and',
              conditions: [
                { op: 'is', lhs: 'tag:severity', rhs: 'critical' },
                { op: 'is', lhs: 'service', rhs: 'service-test2' },
              ],
            },
          ],
        },
      ],
    };
    expect(matches(filters, p1)).toBe(true);
    expect(matches(filters, tagged)).toBe(true);
    expect(matches(filters, untagged)).toBe(false);
  });

  test(`when groups nest ${MAX_FILTER_DEPTH} levels, then they compile; one more, then they are refused`, () => {
    const nest = (levels: number): any =>
      levels === 1
        ? { op: 'and', conditions: [{ op: 'is', lhs: 'team', rhs: 'Yash' }] }
        : { op: 'and', conditions: [nest(levels - 1)] };
    expect(matches(nest(MAX_FILTER_DEPTH), untagged)).toBe(true);
    const result = compileFilters(nest(MAX_FILTER_DEPTH + 1));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems[0].message).toMatch(/nested at most 5/);
  });

  test('when filters are over 20 KB, then they are refused', () => {
    const conditions = Array.from({ length: 400 }, (_, i) => ({
      op: 'is',
      lhs: 'service',
      rhs: `svc-${i}-${'x'.repeat(40)}`,
    }));
    const result = compileFilters({ op: 'or', conditions });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems[0].message).toMatch(/20480 bytes/);
  });

  test('when several conditions are wrong, then every problem is reported with its path', () => {
    const result = compileFilters({
      op: 'xor',
      conditions: [
        { op: 'equals', lhs: 'team', rhs: 'a' },
        { op: 'is', lhs: 'owner', rhs: 'a' },
        { op: 'in', lhs: 'service', rhs: 'a' },
        { op: 'is', lhs: 'priority', rhs: 'P9' },
        { op: 'is', lhs: 'tag:', rhs: 'a' },
        { op: 'and', conditions: [] },
        'nonsense',
      ],
    });
    expect(result.ok).toBe(false);
    const paths = !result.ok ? result.problems.map((p) => p.path) : [];
    expect(paths).toEqual([
      'op',
      'conditions.0.op',
      'conditions.1.lhs',
      'conditions.2.rhs',
      'conditions.3.rhs',
      'conditions.4.lhs',
      'conditions.5.conditions',
      'conditions.6',
    ]);
  });
});

describe('raw json-logic filters', () => {
  test('when json_logic uses built-in operators, then it is stored as given and applied to the facts', () => {
    const rule = { some: [{ var: 'tags' }, { '===': [{ var: 'key' }, 'severity'] }] };
    expect(compiled({ json_logic: rule })).toBe(JSON.stringify(rule));
    expect(matches({ json_logic: rule }, tagged)).toBe(true);
    expect(matches({ json_logic: rule }, untagged)).toBe(false);
  });

  test('when json_logic uses an operator that is not built in, or log, then it is refused with the path', () => {
    const result = compileFilters({ json_logic: { and: [{ log: 1 }, { regex: ['a', 'b'] }] } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => p.path)).toEqual(['json_logic.and.0', 'json_logic.and.1']);
  });

  test('when json_logic reads prototype properties or sits beside other keys, then it is refused', () => {
    expect(compileFilters({ json_logic: { var: '__proto__.x' } }).ok).toBe(false);
    expect(compileFilters({ json_logic: true, op: 'and' }).ok).toBe(false);
  });

  test('when a json_logic path is computed instead of literal, then it is refused', () => {
    const computed = { var: { if: [true, 'constructor.name', 'x'] } };
    expect(problemsOf({ json_logic: { '==': [computed, 'Object'] } })).toEqual([
      { path: 'json_logic.==.0.var', message: 'the var path must be a literal string' },
    ]);
    expect(problemsOf({ json_logic: { missing: [{ if: [true, 'a', 'b'] }] } })).toEqual([
      { path: 'json_logic.missing', message: 'the missing path must be a literal string' },
    ]);
    expect(compileFilters({ json_logic: { '==': [{ var: ['team.id', 'none'] }, 'x'] } }).ok).toBe(true);
  });
});

/** The exploit from the security review: 375 bytes that doubled a string 26 times, 64 times over. */
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const doubling = {
  reduce: [range(26), { cat: [{ var: 'accumulator' }, { var: 'accumulator' }] }, 'xy'],
};
const exploit = { '>': [{ map: [range(64), { substr: [doubling, 1] }] }, 0] };

describe('raw json-logic filters: evaluation cost stays bounded', () => {
  test('when json_logic builds values with reduce, cat and map (the worker-crashing rule), then every such operator is refused with its path', () => {
    const problems = problemsOf({ json_logic: exploit });
    expect(problems.map((p) => p.path)).toEqual([
      'json_logic.>.0',
      'json_logic.>.0.map.1.substr.0',
      'json_logic.>.0.map.1.substr.0.reduce.1',
    ]);
    expect(problems.map((p) => p.message.match(/^"(\w+)" is not allowed in filters/)?.[1])).toEqual([
      'map',
      'reduce',
      'cat',
    ]);
    expect(problems[0].message).toMatch(/exhaust the worker's memory/);
  });

  test.each([
    ['map', { map: [{ var: 'tags' }, { var: 'key' }] }],
    ['filter', { filter: [{ var: 'tags' }, { '===': [{ var: 'key' }, 'severity'] }] }],
    ['reduce', { reduce: [{ var: 'tags' }, { '+': [{ var: 'accumulator' }, 1] }, 0] }],
    ['merge', { merge: [{ var: 'tags' }, { var: 'tags' }] }],
    ['cat', { cat: [{ var: 'team.name' }, '!'] }],
  ])('when json_logic uses %s, then it is refused at its path', (op, use) => {
    expect(problemsOf({ json_logic: { '!!': [use] } })).toEqual([
      { path: 'json_logic.!!.0', message: expect.stringContaining(`"${op}" is not allowed in filters`) },
    ]);
  });

  test('when json_logic matches a prefix with substr (it cannot grow a value), then it is accepted', () => {
    expect(problemsOf({ json_logic: { '==': [{ substr: [{ var: 'service.name' }, 0, 5] }, 'prod-'] } })).toEqual([]);
  });

  test('when iteration is nested inside another iteration, then the inner one is refused, wherever it sits in the predicate', () => {
    const inner = { all: [{ var: 'value' }, { '==': [{ var: '' }, 'x'] }] };
    const nested = { some: [{ var: 'tags' }, { and: [{ '===': [{ var: 'key' }, 'a'] }, inner] }] };
    expect(problemsOf({ json_logic: nested })).toEqual([
      {
        path: 'json_logic.some.1.and.1',
        message: '"all" may not be used inside the predicate of "some": nested iteration multiplies the work',
      },
    ]);
    const twice = { none: [{ var: 'tags' }, { '!': { some: [{ var: 'tags' }, true] } }] };
    expect(problemsOf({ json_logic: twice }).map((p) => p.path)).toEqual(['json_logic.none.1.!']);
  });

  test('when iteration runs over a literal or computed array, then it is refused; over event data, then it is accepted', () => {
    const overLiteral = { some: [range(1000), { '==': [{ var: '' }, 1] }] };
    expect(problemsOf({ json_logic: overLiteral })).toEqual([
      {
        path: 'json_logic.some.0',
        message: '"some" may only iterate over event data, {"var": "<path>"}, not over a literal or computed array',
      },
    ]);
    const overComputed = { all: [{ if: [true, range(10), []] }, true] };
    expect(problemsOf({ json_logic: overComputed }).map((p) => p.path)).toEqual(['json_logic.all.0']);
    const overDefault = { none: [{ var: ['nothing', range(10)] }, true] };
    expect(problemsOf({ json_logic: overDefault }).map((p) => p.path)).toEqual(['json_logic.none.0']);
    const withoutPredicate = { some: [{ var: 'tags' }] };
    expect(problemsOf({ json_logic: withoutPredicate }).map((p) => p.path)).toEqual(['json_logic.some']);

    // Each of some/all/none, side by side (not nested), over the tags: allowed and evaluated.
    const severe = { '===': [{ var: 'key' }, 'severity'] };
    const sideBySide = {
      and: [{ some: [{ var: 'tags' }, severe] }, { all: [{ var: ['tags', null] }, severe] }],
    };
    const noLow = { none: [{ var: 'tags' }, { '===': [{ var: 'value' }, 'low'] }] };
    expect(matches({ json_logic: sideBySide }, tagged)).toBe(true);
    expect(matches({ json_logic: sideBySide }, untagged)).toBe(false);
    expect(matches({ json_logic: noLow }, tagged)).toBe(true);
  });

  test('when a rule comes from the filter compiler, then checkJsonLogic accepts it, for every condition op and lhs', () => {
    expect([...ALLOWED_OPERATORS].filter((op) => UNBOUNDED_OPERATORS.has(op) || op === 'log')).toEqual([]);
    const lhsValues = [...FILTER_LHS, 'tag:severity', 'tag:k8s.io/cluster'];
    const rhsFor = (op: string, lhs: string) => {
      const value = lhs === 'priority' ? (op === 'contains' ? 'P' : 'P1') : 'x';
      return op === 'in' || op === 'not_in' ? Array.from({ length: MAX_RHS_VALUES }, () => value) : value;
    };
    const conditions = FILTER_CONDITION_OPS.flatMap((op) =>
      lhsValues.map((lhs) => ({ op, lhs, rhs: rhsFor(op, lhs) })),
    );
    expect(conditions).toHaveLength(FILTER_CONDITION_OPS.length * lhsValues.length);
    for (const condition of conditions) {
      const logic = compiled({ op: 'and', conditions: [condition] });
      expect({ condition, problems: checkJsonLogic(JSON.parse(logic!)) }).toEqual({ condition, problems: [] });
    }
    // Every condition at once, in groups nested as deep as allowed.
    const nest = (levels: number): any =>
      levels === 1
        ? { op: 'or', conditions }
        : { op: 'and', conditions: [...conditions.slice(0, 2), nest(levels - 1)] };
    const all = compiled(nest(MAX_FILTER_DEPTH));
    expect(checkJsonLogic(JSON.parse(all!))).toEqual([]);
    // And stored back as raw json_logic, the compiled rule is accepted too.
    expect(compileFilters({ json_logic: JSON.parse(all!) }).ok).toBe(true);
  });
});
