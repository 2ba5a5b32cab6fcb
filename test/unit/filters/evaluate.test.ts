import triggered from '../../../src/payloads/fixtures/v2/incident-triggered.json';
import taskCreated from '../../../src/payloads/fixtures/v2/incident-task-created.json';
import { evaluateFilter } from '../../../src/filters/evaluate';
import { filterFacts } from '../../../src/filters/facts';
import type { EventEnvelopeV2 } from '../../../src/shared/types';

const incidentEvent = triggered as unknown as EventEnvelopeV2;
const taskEvent = taskCreated as unknown as EventEnvelopeV2;

describe('filterFacts', () => {
  test('when the event is about the incident itself, then facts come from resource_data', () => {
    expect(filterFacts(incidentEvent)).toEqual({
      team: { id: '6196371cda7b4ab764b13a1f', name: 'Yash' },
      service: { id: '62f0fdde613c98528db9f8bc', name: 'Service Test2', slug: 'service-test2' },
      alert_source: { id: '6077f7225fdc7075e371685f', type: 'Squadcast UI', short_name: 'squadcastui' },
      priority: 'UNSET',
      tags: [],
    });
  });

  test('when the event carries data.incident, then facts come from it, tags as a key/value list', () => {
    const facts = filterFacts(taskEvent);
    expect(facts.tags).toEqual([{ key: 'severity', value: 'critical' }]);
    expect(facts.service.slug).toBe('service-test2');
  });

  test('when priority is present in any case, then it is normalized; when unknown, then UNSET', () => {
    const withPriority = (p: unknown) => {
      const e = structuredClone(incidentEvent) as any;
      e.data.resource_data.priority = p;
      return filterFacts(e).priority;
    };
    expect(withPriority('p2')).toBe('P2');
    expect(withPriority('P5')).toBe('P5');
    expect(withPriority('urgent')).toBe('UNSET');
    expect(withPriority(null)).toBe('UNSET');
  });

  test('when the envelope lacks parts, then facts hold nulls instead of throwing', () => {
    const facts = filterFacts({ data: {} } as unknown as EventEnvelopeV2);
    expect(facts.team).toEqual({ id: null, name: null });
    expect(facts.tags).toEqual([]);
  });
});

describe('evaluateFilter', () => {
  test('when the stored logic is null, then every event matches', () => {
    expect(evaluateFilter(null, incidentEvent)).toBe(true);
  });

  test('when the stored logic is json-logic over the facts, then it is applied to them', () => {
    const rule = JSON.stringify({ '===': [{ var: 'service.slug' }, 'service-test2'] });
    expect(evaluateFilter(rule, incidentEvent)).toBe(true);
    const other = JSON.stringify({ '===': [{ var: 'priority' }, 'P1'] });
    expect(evaluateFilter(other, incidentEvent)).toBe(false);
  });

  test('when the stored logic uses an operator outside the allowed set, then it throws', () => {
    expect(() => evaluateFilter(JSON.stringify({ log: 'x' }), incidentEvent)).toThrow(/not a built-in/);
    expect(() => evaluateFilter(JSON.stringify({ var: 'constructor.name' }), incidentEvent)).toThrow(/not allowed/);
  });

  test('when the stored logic could build huge values (saved before the cost checks), then it throws before evaluating', () => {
    // The worker-crashing rule: evaluated, it would build 64 strings of 2^27 characters.
    const doubling = {
      reduce: [[...Array(26).keys()], { cat: [{ var: 'accumulator' }, { var: 'accumulator' }] }, 'xy'],
    };
    const exploit = JSON.stringify({ '>': [{ map: [[...Array(64).keys()], { substr: [doubling, 1] }] }, 0] });
    expect(() => evaluateFilter(exploit, incidentEvent)).toThrow(/"map" is not allowed in filters/);
    const nested = JSON.stringify({ some: [{ var: 'tags' }, { some: [{ var: 'tags' }, true] }] });
    expect(() => evaluateFilter(nested, taskEvent)).toThrow(/nested iteration/);
  });
});
