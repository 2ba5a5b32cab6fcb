/** The filter builder: nested AND/OR groups of conditions, or a raw json-logic rule for experts. */
import {
  CONDITION_OPS,
  GROUP_OPS,
  groupDepth,
  newCondition,
  newGroup,
  OP_LABELS,
  SUBJECT_LABELS,
  SUBJECTS,
  takesList,
  updateNode,
  type ConditionNode,
  type FilterModel,
  type FilterNode,
  type GroupNode,
} from './filters';

const MAX_DEPTH = 5;

interface Props {
  model: FilterModel;
  onChange: (m: FilterModel) => void;
  errorId?: string;
}

export function FilterBuilder({ model, onChange, errorId }: Props) {
  const setRoot = (root: GroupNode) => onChange({ mode: 'builder', root });
  const update = (id: number, fn: (n: FilterNode) => FilterNode | null) =>
    model.mode === 'builder' && setRoot(updateNode(model.root, id, fn));

  return (
    <fieldset class="filters" aria-describedby={errorId}>
      <legend>Filters</legend>
      <div class="row" role="radiogroup" aria-label="Filter mode">
        {(
          [
            ['none', 'Every event'],
            ['builder', 'Only events matching conditions'],
            ['raw', 'Raw json-logic (experts)'],
          ] as const
        ).map(([mode, label]) => (
          <label key={mode} class="radio">
            <input
              type="radio"
              name="filter-mode"
              checked={model.mode === mode}
              onChange={() =>
                onChange(
                  mode === 'none'
                    ? { mode: 'none' }
                    : mode === 'builder'
                      ? { mode: 'builder', root: model.mode === 'builder' ? model.root : newGroup() }
                      : { mode: 'raw', text: model.mode === 'raw' ? model.text : '' },
                )
              }
            />{' '}
            {label}
          </label>
        ))}
      </div>
      {model.mode === 'builder' && <Group group={model.root} depth={1} update={update} isRoot />}
      {model.mode === 'raw' && (
        <>
          <label for="raw-filter">json-logic rule</label>
          <textarea
            id="raw-filter"
            class="mono"
            rows={8}
            spellcheck={false}
            value={model.text}
            onInput={(e) => onChange({ mode: 'raw', text: e.currentTarget.value })}
            aria-describedby="raw-filter-help"
          />
          <p id="raw-filter-help" class="help">
            A json-logic rule over the event's facts, e.g. <code>{'{"==": [{"var": "priority"}, "P1"]}'}</code>.
          </p>
        </>
      )}
    </fieldset>
  );
}

type Update = (id: number, fn: (n: FilterNode) => FilterNode | null) => void;

function Group({
  group,
  depth,
  update,
  isRoot,
}: {
  group: GroupNode;
  depth: number;
  update: Update;
  isRoot?: boolean;
}) {
  const label = `${isRoot ? 'Top' : `Nested (level ${depth})`} group`;
  const add = (node: FilterNode) =>
    update(group.id, (g) => ({ ...(g as GroupNode), children: [...(g as GroupNode).children, node] }));
  return (
    <div class="group" role="group" aria-label={label} data-depth={depth}>
      <div class="row">
        <label>
          Match{' '}
          <select
            aria-label={`${label}: combine with`}
            value={group.op}
            onChange={(e) =>
              update(group.id, (g) => ({ ...(g as GroupNode), op: e.currentTarget.value as GroupNode['op'] }))
            }
          >
            {GROUP_OPS.map((op) => (
              <option key={op} value={op}>
                {op === 'and' ? 'ALL (AND)' : 'ANY (OR)'}
              </option>
            ))}
          </select>{' '}
          of these
        </label>
        {!isRoot && (
          <button type="button" class="link danger" onClick={() => update(group.id, () => null)}>
            Remove group
          </button>
        )}
      </div>
      <ul>
        {group.children.map((c) => (
          <li key={c.id}>
            {c.kind === 'group' ? (
              <Group group={c} depth={depth + 1} update={update} />
            ) : (
              <Condition c={c} update={update} />
            )}
          </li>
        ))}
      </ul>
      <div class="row">
        <button type="button" onClick={() => add(newCondition())}>
          Add condition
        </button>
        <button
          type="button"
          disabled={depth + groupDepth(newGroup()) > MAX_DEPTH}
          onClick={() => add(newGroup(group.op === 'and' ? 'or' : 'and'))}
        >
          Add nested group
        </button>
      </div>
    </div>
  );
}

function Condition({ c, update }: { c: ConditionNode; update: Update }) {
  const set = (patch: Partial<ConditionNode>) => update(c.id, (n) => ({ ...(n as ConditionNode), ...patch }));
  const list = takesList(c.op);
  return (
    <div class="condition" role="group" aria-label="Condition">
      <select
        aria-label="Field"
        value={c.subject}
        onChange={(e) => set({ subject: e.currentTarget.value as ConditionNode['subject'] })}
      >
        {SUBJECTS.map((s) => (
          <option key={s} value={s}>
            {SUBJECT_LABELS[s]}
          </option>
        ))}
      </select>
      {c.subject === 'tag' && (
        <input
          aria-label="Tag key"
          placeholder="tag key"
          value={c.tagKey}
          onInput={(e) => set({ tagKey: e.currentTarget.value })}
        />
      )}
      <select
        aria-label="Operator"
        value={c.op}
        onChange={(e) => {
          const op = e.currentTarget.value as ConditionNode['op'];
          set({ op, values: takesList(op) ? c.values : [c.values[0] ?? ''] });
        }}
      >
        {CONDITION_OPS.map((op) => (
          <option key={op} value={op}>
            {OP_LABELS[op]}
          </option>
        ))}
      </select>
      <input
        aria-label={list ? 'Values, separated by commas' : 'Value'}
        placeholder={list ? 'a, b, c' : c.subject === 'priority' ? 'P1' : 'value'}
        value={list ? c.values.join(', ') : c.values[0]}
        onInput={(e) =>
          set({ values: list ? e.currentTarget.value.split(',').map((v) => v.trimStart()) : [e.currentTarget.value] })
        }
      />
      <button type="button" class="link danger" aria-label="Remove condition" onClick={() => update(c.id, () => null)}>
        Remove
      </button>
    </div>
  );
}
