/**
 * Concurrency caps enforced atomically (docs/policy.md "How a cap is enforced"): a create claims a
 * slot in every cap scope it joins (ports/canary-slots.ts) before its deployment is written; the
 * run's release frees them; the sweeper frees the slots of runs that are over and of creations that
 * never wrote their deployment. A cap is never exceeded by this: a slot is freed only when its
 * holder's run is released, or when its holder is no deployment long after it claimed.
 */
import type { Deployment } from '../domain/deployment.js';
import { PolicyDeniedError } from '../domain/errors.js';
import { capFullReason, capScopes } from '../domain/policy/concurrency-cap.js';
import type { UseCaseDeps } from './deps.js';
import { capRulesFor, policyDeploymentOf, subjectOf, type PolicyCheckDeps } from './policy-check.js';

export type SlotDeps = PolicyCheckDeps & Pick<UseCaseDeps, 'slots'>;

/**
 * Claims `d`'s slot in every cap scope it joins; a full scope is PolicyDeniedError naming the cap and
 * the deployments holding its slots, and the slots claimed before it are released. Idempotent: a
 * replayed creation claims its own slots again. With no cap applying, reads nothing.
 */
export async function claimCapSlots(deps: SlotDeps, d: Deployment): Promise<void> {
  const rules = capRulesFor(deps.policyRules, { service: d.service, environment: d.environment ?? null });
  if (rules.length === 0) return;
  const deployment = await policyDeploymentOf(deps, subjectOf(d));
  const at = deps.clock.now().toISOString();
  const claimed: string[] = [];
  for (const rule of rules) {
    for (const scope of capScopes(rule, deployment)) {
      const outcome = await deps.slots.claim(scope.key, d.id, rule.max, at);
      if (!outcome.claimed) {
        await Promise.all(claimed.map((key) => deps.slots.release(key, d.id)));
        const reason = capFullReason(rule, scope, outcome.holders.map((h) => h.holder));
        throw new PolicyDeniedError([{ rule: rule.name, kind: rule.kind, reason, nextAllowedAt: null }]);
      }
      claimed.push(scope.key);
    }
  }
}

/**
 * Frees every slot `holder` holds, in whichever scopes (the configuration may have changed since the
 * claim). Idempotent.
 */
export async function releaseCapSlots(deps: Pick<UseCaseDeps, 'slots'>, holder: string): Promise<void> {
  const held = (await deps.slots.scopes()).filter((scope) => scope.holders.some((h) => h.holder === holder));
  await Promise.all(held.map((scope) => deps.slots.release(scope.scopeKey, holder)));
}

export interface PrunedSlot {
  scopeKey: string;
  holder: string;
  reason: string;
}

/**
 * The sweeper's part (usecases/resume-runs.ts): frees the slots whose holder's run is released (its
 * release died before freeing them), and those whose holder is no deployment and claimed more than
 * `graceMs` ago (a creation that died, or was refused, between its claim and its deployment's write).
 * The second is conditional on the claim time judged, so a retried creation that claimed again since
 * keeps its slot.
 */
export async function pruneCapSlots(deps: Pick<UseCaseDeps, 'slots' | 'deployments'>, now: Date, graceMs: number): Promise<PrunedSlot[]> {
  const pruned: PrunedSlot[] = [];
  const deployments = new Map<string, Promise<Deployment | undefined>>();
  const deploymentOf = (id: string) => deployments.get(id) ?? deployments.set(id, deps.deployments.get(id)).get(id)!;
  for (const { scopeKey, holders } of await deps.slots.scopes()) {
    for (const { holder, claimedAt } of holders) {
      const d = await deploymentOf(holder);
      if (d?.run.released) {
        await deps.slots.release(scopeKey, holder);
        pruned.push({ scopeKey, holder, reason: 'its run is over' });
      } else if (!d && now.getTime() - Date.parse(claimedAt) >= graceMs) {
        await deps.slots.release(scopeKey, holder, claimedAt);
        pruned.push({ scopeKey, holder, reason: 'no such deployment: its creation died or was refused before writing it' });
      }
    }
  }
  return pruned;
}
