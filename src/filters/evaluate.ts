/**
 * Evaluates a webhook's stored filter against an event. Pure and deterministic, so workflow code
 * may call it.
 */
import jsonLogic from 'json-logic-js';
import type { EventEnvelopeV2 } from '../shared/types';
import { filterFacts } from './facts';
import { checkJsonLogic } from './jsonLogic';

/**
 * Does the event match the webhook's `filterLogic` (the compiled json-logic as stored, JSON text)?
 * `null` matches every event. Throws, before evaluating anything, when the stored text is not JSON
 * or fails checkJsonLogic (an operator outside the allowed set, iteration over a literal or nested
 * iteration); the API no longer stores such a rule, so that means it was stored before those
 * checks or the store was edited by hand. The workflow skips the webhook then.
 */
export function evaluateFilter(filterLogic: string | null, envelope: EventEnvelopeV2): boolean {
  if (filterLogic === null || filterLogic === undefined || filterLogic === '') return true;
  const rule: unknown = JSON.parse(filterLogic);
  const problems = checkJsonLogic(rule);
  if (problems.length) throw new Error(`stored filter is invalid: ${problems[0].message}`);
  return jsonLogic.truthy(jsonLogic.apply(rule as jsonLogic.RulesLogic, filterFacts(envelope)));
}
