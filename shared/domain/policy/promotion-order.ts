/**
 * Promotion order: the canary version must have SUCCEEDED in environment `after` before it deploys
 * in an environment the rule covers. Checked at create. A rule whose environments include `after`
 * itself does not ask `after` to wait for itself.
 */
import type { PolicyInput } from './input.js';
import type { PromotionOrderRule, Verdict } from './types.js';
import { allow, notThisMoment, refuse } from './verdict.js';

export function evaluatePromotionOrder(rule: PromotionOrderRule, input: PolicyInput): Verdict {
  if (input.moment !== 'create') return notThisMoment(rule, 'create', input.moment);
  const { service, canaryVersion, environment } = input.deployment;
  const terms = `promotion order "${rule.name}" (${rule.after} first)`;
  if (environment === rule.after) return allow(rule, `${terms}: this is ${rule.after} itself`);
  if (input.succeededIn.includes(rule.after)) return allow(rule, `${terms}: ${service} ${canaryVersion} has SUCCEEDED in ${rule.after}`);
  return refuse(rule, `${terms}: ${service} ${canaryVersion} has not SUCCEEDED in ${rule.after} yet`);
}
