import {
  CONDITION_OPS,
  filtersFromApi,
  filtersToApi,
  groupDepth,
  newCondition,
  newGroup,
  updateNode,
  type ApiFilters,
  type ApiGroup,
} from '../../../src/console/app/filters';

const roundTrip = (filters: ApiFilters) => {
  const result = filtersToApi(filtersFromApi(filters));
  if (!result.ok) throw new Error(result.message);
  return result.filters;
};

describe('console filter builder mapping', () => {
  it('maps no filters to none and back to null', () => {
    expect(filtersFromApi(null)).toEqual({ mode: 'none' });
    expect(roundTrip(null)).toBeNull();
  });

  it.each(
    CONDITION_OPS.flatMap((op) => ['team', 'service', 'alert_source', 'priority', 'tag:env'].map((lhs) => [op, lhs])),
  )('round-trips %s on %s in the builder', (op, lhs) => {
    const rhs = op === 'in' || op === 'not_in' ? ['a', 'b c'] : 'P1';
    const filters = { op: 'and', conditions: [{ op, lhs, rhs }] } as ApiGroup;
    const model = filtersFromApi(filters);
    expect(model.mode).toBe('builder');
    expect(roundTrip(filters)).toEqual(filters);
  });

  it('reads a tag condition as subject tag with its key', () => {
    const model = filtersFromApi({ op: 'or', conditions: [{ op: 'is', lhs: 'tag:env', rhs: 'prod' }] });
    if (model.mode !== 'builder') throw new Error('expected builder');
    expect(model.root.children[0]).toMatchObject({ subject: 'tag', tagKey: 'env', op: 'is', values: ['prod'] });
  });

  it('round-trips nested AND/OR groups four levels deep, mixing conditions and groups', () => {
    const filters: ApiGroup = {
      op: 'and',
      conditions: [
        { op: 'is', lhs: 'team', rhs: 'sre' },
        {
          op: 'or',
          conditions: [
            { op: 'in', lhs: 'priority', rhs: ['P1', 'P2'] },
            {
              op: 'and',
              conditions: [
                { op: 'contains', lhs: 'service', rhs: 'pay' },
                { op: 'or', conditions: [{ op: 'not_in', lhs: 'tag:region', rhs: ['eu'] }] },
              ],
            },
          ],
        },
        { op: 'is_not', lhs: 'alert_source', rhs: 'email' },
      ],
    };
    const model = filtersFromApi(filters);
    if (model.mode !== 'builder') throw new Error('expected builder');
    expect(groupDepth(model.root)).toBe(4);
    expect(roundTrip(filters)).toEqual(filters);
  });

  it('round-trips raw json-logic, and keeps shapes the builder cannot show in raw mode unchanged', () => {
    const raw = { json_logic: { '==': [{ var: 'priority' }, 'P1'] } };
    expect(filtersFromApi(raw).mode).toBe('raw');
    expect(roundTrip(raw)).toEqual(raw);
    const odd = { op: 'xor', conditions: [] };
    const model = filtersFromApi(odd);
    expect(model).toEqual({ mode: 'raw', text: JSON.stringify(odd, null, 2) });
    // A list op with a single string is not a builder shape either: shown raw, not rewritten.
    expect(filtersFromApi({ op: 'and', conditions: [{ op: 'in', lhs: 'team', rhs: 'x' }] }).mode).toBe('raw');
    expect(filtersFromApi({ op: 'and', conditions: [{ op: 'is', lhs: 'colour', rhs: 'x' }] }).mode).toBe('raw');
  });

  it('builds the API value from edits: trims values, drops empty list items, removes nodes', () => {
    const c1 = {
      ...newCondition(),
      subject: 'tag' as const,
      tagKey: ' env ',
      op: 'in' as const,
      values: [' prod ', '', 'stg'],
    };
    const c2 = newCondition();
    const inner = newGroup('or', [c2]);
    let root = newGroup('and', [c1, inner]);
    expect(filtersToApi({ mode: 'builder', root })).toEqual({
      ok: true,
      filters: {
        op: 'and',
        conditions: [
          { op: 'in', lhs: 'tag:env', rhs: ['prod', 'stg'] },
          { op: 'or', conditions: [{ op: 'is', lhs: 'team', rhs: '' }] },
        ],
      },
    });
    root = updateNode(root, inner.id, () => null);
    expect(filtersToApi({ mode: 'builder', root })).toEqual({
      ok: true,
      filters: { op: 'and', conditions: [{ op: 'in', lhs: 'tag:env', rhs: ['prod', 'stg'] }] },
    });
  });

  it('says when raw text is not JSON', () => {
    const result = filtersToApi({ mode: 'raw', text: '{"==": [' });
    expect(result.ok).toBe(false);
    expect(filtersToApi({ mode: 'raw', text: '  ' })).toEqual({ ok: true, filters: null });
  });
});
