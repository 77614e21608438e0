/**
 * Dependency health: a service may not start (create) while a service it depends on is rolling
 * back. A run already under way is not held by it. The services it depends on are those it declared
 * (domain/dependencies.ts) when it declared any, else the rule's `dependsOn`.
 */
import type { PolicyInput } from './input.js';
import type { DependencyHealthRule, Verdict } from './types.js';
import { allow, notThisMoment, refuse } from './verdict.js';

export function evaluateDependencyHealth(rule: DependencyHealthRule, input: PolicyInput): Verdict {
  if (input.moment !== 'create') return notThisMoment(rule, 'create', input.moment);
  // One source of truth for what a service calls: its declaration in the registry wins; the rule's list is the default.
  const declared = input.declaredDependencies;
  const dependsOn = declared ?? rule.dependsOn;
  const terms = `dependency health "${rule.name}" (depends on ${dependsOn.length > 0 ? dependsOn.join(', ') : 'nothing'}${declared ? ', as declared' : ''})`;
  const failing = dependsOn.filter((service) => input.rollingBack.includes(service));
  if (failing.length > 0) return refuse(rule, `${terms}: ${failing.join(', ')} ${failing.length === 1 ? 'is' : 'are'} rolling back`);
  return allow(rule, `${terms}: none is rolling back`);
}
