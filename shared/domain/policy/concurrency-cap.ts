/**
 * Concurrency caps: at most `max` canaries running at once among the deployments a rule applies to,
 * overall, per cloud or per proxy group. Checked when a canary starts (create); the deployment asked
 * about counts as one more, so a cap of 3 with 3 running refuses the fourth.
 *
 * A cap is counted in scopes: one per rule (`global`), or one per cloud / proxy group the deployment
 * touches. A scope's running canaries are the holders of its slots (ports/canary-slots.ts), which a
 * create claims atomically; this pure verdict is what the dry run answers, and what a create checks
 * before it claims.
 */
import type { PolicyDeployment, PolicyInput } from './input.js';
import type { ConcurrencyCapRule, Verdict } from './types.js';
import { allow, notThisMoment, refuse } from './verdict.js';

/** One place a cap is counted. */
export interface CapScope {
  /** `<rule>#global`, `<rule>#cloud:<cloud>`, `<rule>#group:<proxy group>`: the slots' key. */
  key: string;
  /** How a reason names it: empty for the whole cap, ` in cloud aws`, ` in proxy group edge-eu`. */
  label: string;
}

export function evaluateConcurrencyCap(rule: ConcurrencyCapRule, input: PolicyInput): Verdict {
  if (input.moment !== 'create') return notThisMoment(rule, 'create', input.moment);
  for (const scope of capScopes(rule, input.deployment)) {
    const holders = input.capHolders[scope.key] ?? [];
    if (holders.length + 1 > rule.max) return refuse(rule, capFullReason(rule, scope, holders));
  }
  return allow(rule, `${capName(rule)}: room for this canary`);
}

/** The scopes the deployment would join: the rule's one, or one per cloud / proxy group it touches. */
export function capScopes(rule: ConcurrencyCapRule, deployment: Pick<PolicyDeployment, 'clouds' | 'proxyGroups'>): CapScope[] {
  if (rule.per === 'global') return [{ key: `${rule.name}#global`, label: '' }];
  if (rule.per === 'cloud') return deployment.clouds.map((cloud) => ({ key: `${rule.name}#cloud:${cloud}`, label: ` in cloud ${cloud}` }));
  return deployment.proxyGroups.map((group) => ({ key: `${rule.name}#group:${group}`, label: ` in proxy group ${group}` }));
}

/** Why a full scope refuses: the cap, and the deployments holding its slots. */
export function capFullReason(rule: ConcurrencyCapRule, scope: CapScope, holders: readonly string[]): string {
  return `${capName(rule)}: ${holders.length} already running${scope.label} (${holders.join(', ')})`;
}

function capName(rule: ConcurrencyCapRule): string {
  return `concurrency cap "${rule.name}" (at most ${rule.max} ${rule.per === 'global' ? `${rule.max === 1 ? 'canary' : 'canaries'} at once` : `per ${rule.per}`})`;
}
