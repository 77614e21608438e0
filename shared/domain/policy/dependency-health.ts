/**
 * Dependency health: a service may not start (create) while a service it depends on is rolling
 * back. A run already under way is not held by it.
 */
import type { PolicyInput } from './input.js';
import type { DependencyHealthRule, Verdict } from './types.js';
import { allow, notThisMoment, refuse } from './verdict.js';

export function evaluateDependencyHealth(rule: DependencyHealthRule, input: PolicyInput): Verdict {
  if (input.moment !== 'create') return notThisMoment(rule, 'create', input.moment);
  const terms = `dependency health "${rule.name}" (depends on ${rule.dependsOn.join(', ')})`;
  const failing = rule.dependsOn.filter((service) => input.rollingBack.includes(service));
  if (failing.length > 0) return refuse(rule, `${terms}: ${failing.join(', ')} ${failing.length === 1 ? 'is' : 'are'} rolling back`);
  return allow(rule, `${terms}: none is rolling back`);
}
