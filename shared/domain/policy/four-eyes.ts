/**
 * Four eyes: a manual gate must be promoted by a principal other than the deployment's creator.
 * Only promotion is judged; creating and stepping are allowed.
 */
import type { PolicyInput } from './input.js';
import type { FourEyesRule, Verdict } from './types.js';
import { allow, notThisMoment, refuse } from './verdict.js';

export function evaluateFourEyes(rule: FourEyesRule, input: PolicyInput): Verdict {
  if (input.moment !== 'promote') return notThisMoment(rule, 'promote', input.moment);
  const terms = `four eyes "${rule.name}" (promoted by someone other than the creator)`;
  if (input.principal === input.deployment.createdBy) return refuse(rule, `${terms}: ${input.principal} created this deployment`);
  return allow(rule, `${terms}: ${input.principal} promotes what ${input.deployment.createdBy} created`);
}
