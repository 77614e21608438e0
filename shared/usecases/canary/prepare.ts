/**
 * Prepare: hold the service's lock, check both versions are registered, resolve the baseline (docs/api.md:
 * "defaults to the version now serving"), and put the canary at 0% in every proxy group.
 */
import type { Deployment } from '../../domain/deployment.js';
import { prepared, rollbackDecided } from '../../domain/lifecycle.js';
import type { ServiceState } from '../../ports/mesh-registry.js';
import type { ActionWork } from './run-task.js';
import { holdLock } from './lock.js';
import { applyShares, uniformShares, weightsOf } from './traffic.js';

export const prepare: ActionWork = async (deps, d) => {
  const grant = await holdLock(deps, d);
  const now = deps.clock.now();
  const state = await deps.registry.getService(d.service);
  const registered = new Set(state?.versions.map((v) => v.version) ?? []);
  if (!registered.has(d.canary.version)) return refuse(deps, d, `canary version ${d.canary.version} of ${d.service} is not registered in the mesh`);
  const baseline = d.baseline?.version ?? servingVersion(state, d.canary.version);
  if (baseline === undefined) return refuse(deps, d, `${d.service} has no version serving traffic to compare ${d.canary.version} with; name baseline.version`);
  if (!registered.has(baseline)) return refuse(deps, d, `baseline version ${baseline} of ${d.service} is not registered in the mesh`);

  const withBaseline: Deployment = { ...d, baseline: { version: baseline }, run: { ...d.run, fencingToken: grant.fencingToken } };
  const shares = uniformShares(deps, 0);
  await applyShares(deps, withBaseline, shares);
  return prepared(d, { baseline, weights: weightsOf(deps, withBaseline, shares), fencingToken: grant.fencingToken }, now);
};

/** Nothing was shifted: the rollback that follows only finishes the deployment and frees the service. */
function refuse(deps: Parameters<ActionWork>[0], d: Deployment, reason: string): Deployment {
  return rollbackDecided(d, reason, 'FAILED', deps.clock.now());
}

/** The version with the most traffic over all proxy groups, the canary aside. */
function servingVersion(state: ServiceState | undefined, canary: string): string | undefined {
  const totals = new Map<string, number>();
  for (const split of state?.splits ?? []) {
    for (const [version, percent] of Object.entries(split.weights)) if (version !== canary) totals.set(version, (totals.get(version) ?? 0) + percent);
  }
  const [best] = [...totals].filter(([, total]) => total > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return best?.[0];
}
