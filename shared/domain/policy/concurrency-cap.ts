/**
 * Concurrency caps: at most `max` canaries running at once, overall, per cloud or per proxy group.
 * Checked when a canary starts (create); the deployment asked about counts as one more, so a cap of
 * 3 with 3 running refuses the fourth.
 */
import type { PolicyInput, RunningCanary } from './input.js';
import type { ConcurrencyCapRule, Verdict } from './types.js';
import { allow, notThisMoment, refuse } from './verdict.js';

export function evaluateConcurrencyCap(rule: ConcurrencyCapRule, input: PolicyInput): Verdict {
  if (input.moment !== 'create') return notThisMoment(rule, 'create', input.moment);
  const cap = `concurrency cap "${rule.name}" (at most ${rule.max} ${rule.per === 'global' ? `${rule.max === 1 ? 'canary' : 'canaries'} at once` : `per ${rule.per}`})`;
  for (const { label, running } of buckets(rule, input)) {
    if (running.length + 1 > rule.max) {
      const services = running.map((canary) => canary.service).join(', ');
      return refuse(rule, `${cap}: ${running.length} already running${label} (${services})`);
    }
  }
  return allow(rule, `${cap}: room for this canary`);
}

/** The groups of running canaries the deployment would join: one overall, or one per cloud / proxy group it touches. */
function buckets(rule: ConcurrencyCapRule, input: PolicyInput): { label: string; running: readonly RunningCanary[] }[] {
  if (rule.per === 'global') return [{ label: '', running: input.running }];
  if (rule.per === 'cloud') {
    return input.deployment.clouds.map((cloud) => ({ label: ` in cloud ${cloud}`, running: input.running.filter((c) => c.clouds.includes(cloud)) }));
  }
  return input.deployment.proxyGroups.map((group) => ({ label: ` in proxy group ${group}`, running: input.running.filter((c) => c.proxyGroups.includes(group)) }));
}
