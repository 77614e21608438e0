/**
 * Moving a deployment's traffic: which proxy groups a step reaches, the split each should serve,
 * writing it to the registry (the desired state reconciliation also repairs from), putting it into
 * the proxies, and asking them whether they serve it.
 *
 * Percentages are derived from the plan, never accumulated: the canary's share in a group at step
 * i is the `setWeight` of the last step up to i whose wave reaches the group. Applying a step again
 * (a retried task) therefore asks for exactly the same split.
 */
import type { CloudName } from '../../domain/cloud.js';
import { isCloudName } from '../../domain/cloud.js';
import type { Deployment, Weights } from '../../domain/deployment.js';
import { InternalError, LockLostError, NotConvergedError, VersionConflictError } from '../../domain/errors.js';
import { unverifiedReason, type ProxyGroup, type Split } from '../../domain/mesh.js';
import type { ServiceState } from '../../ports/mesh-registry.js';
import type { LaggingProxy } from '../../ports/traffic-router.js';
import { programProxies } from '../program-proxies.js';
import { routerOf } from '../router-of.js';
import { serviceBackend } from '../service-backend.js';
import { groupsRouting } from '../sidecar-scope.js';
import type { CanaryDeps } from './deps.js';

/** The canary's percentage in each proxy group, by group name. */
export type CanaryShares = ReadonlyMap<string, number>;

/** The proxy groups a wave reaches: a cloud reaches its groups, a cluster the groups of its cloud and region, none reaches all. */
export function groupsOfWave(deps: Pick<CanaryDeps, 'proxyGroups' | 'clusters'>, wave: readonly string[] | null): ProxyGroup[] {
  if (wave === null) return [...deps.proxyGroups];
  return deps.proxyGroups.filter((group) =>
    wave.some((entry) => {
      if (isCloudName(entry)) return group.cloud === entry;
      const cluster = deps.clusters.find((c) => c.name === entry);
      return cluster !== undefined && cluster.cloud === group.cloud && cluster.region === group.region;
    }),
  );
}

/** The canary's share per group once steps 0..stepIndex have run. */
export function sharesAtStep(deps: Pick<CanaryDeps, 'proxyGroups' | 'clusters'>, d: Deployment, stepIndex: number): CanaryShares {
  const shares = new Map<string, number>(deps.proxyGroups.map((g) => [g.name, 0]));
  for (const step of d.steps.slice(0, stepIndex + 1)) {
    if (step.kind !== 'setWeight') continue;
    for (const group of groupsOfWave(deps, step.wave)) shares.set(group.name, step.canaryPercent);
  }
  return shares;
}

export function uniformShares(deps: Pick<CanaryDeps, 'proxyGroups'>, canaryPercent: number): CanaryShares {
  return new Map(deps.proxyGroups.map((g) => [g.name, canaryPercent]));
}

/** Every version of the service at 0 except the baseline and the canary, which share 100. */
export function splitFor(d: Deployment, current: Split | undefined, canaryPercent: number): Split {
  const baseline = d.baseline?.version;
  if (baseline === undefined) throw new InternalError(`deployment ${d.id} has no baseline yet; traffic moves only after prepare`);
  const zeroed = Object.fromEntries(Object.keys(current ?? {}).map((version) => [version, 0]));
  return { ...zeroed, [baseline]: 100 - canaryPercent, [d.canary.version]: canaryPercent };
}

/** The status document's `weights`: per cloud, or per `cloud:region` for a cloud whose groups differ. */
export function weightsOf(deps: Pick<CanaryDeps, 'proxyGroups'>, d: Deployment, shares: CanaryShares): Weights {
  return weightsByCloud(deps, (group) => splitFor(d, undefined, shares.get(group.name) ?? 0));
}

/** The same shape, of what the registry holds for the service now (a run that lost the service reports its holder's). */
export function weightsInRegistry(deps: Pick<CanaryDeps, 'proxyGroups'>, state: ServiceState): Weights {
  return weightsByCloud(deps, (group) => state.splits.find((s) => s.proxyGroup === group.name)?.weights ?? {});
}

function weightsByCloud(deps: Pick<CanaryDeps, 'proxyGroups'>, splitOf: (group: ProxyGroup) => Split): Weights {
  const weights: Record<string, Split> = {};
  const byCloud = new Map<CloudName, ProxyGroup[]>();
  for (const group of deps.proxyGroups) byCloud.set(group.cloud, [...(byCloud.get(group.cloud) ?? []), group]);
  for (const [cloud, groups] of byCloud) {
    const splits = groups.map(splitOf);
    const alike = splits.every((split) => sameSplit(split, splits[0]!));
    const keyed = alike ? [[cloud, groups[0]!] as const] : groups.map((g) => [`${cloud}:${g.region}`, g] as const);
    for (const [key, group] of keyed) weights[key] = splitOf(group);
  }
  return weights as Weights;
}

/**
 * Writes each group's split to the registry (when it differs) and puts the registry's state into the
 * proxies. Returns once every router accepted the change; convergence is asked separately (verifyShares).
 */
export async function applyShares(deps: CanaryDeps, d: Deployment, shares: CanaryShares): Promise<void> {
  const state = await writeSplits(deps, d, shares);
  deps.crashPoints?.reached(`traffic:after-split-write:step${d.stepIndex}`);
  await programProxies(deps, d.service, state);
}

/** What the proxies said about a traffic step. */
export interface ShareVerification {
  /** The proxies that do not serve their group's split yet; empty when every group that can be asked has converged. */
  lagging: LaggingProxy[];
  /** Groups that list no proxies: their split is written (and, for Envoy, published) but nothing can say it is served. */
  unverified: string[];
}

/**
 * Asks every group's router (router-of.ts) whether it serves the step's split. A group whose
 * router says 'pending' (what applySplit puts in place is not there: an HAProxy instance restarted
 * or changed by hand, an Envoy publish that lost its race) is programmed again from the registry
 * before the caller asks once more; 'propagating' proxies (Envoy nodes before their next poll)
 * are waited for. A group that lists no proxies is `unverified` once its router has what it needs
 * in place (an Envoy group's published snapshot carries the split).
 */
export async function verifyShares(deps: CanaryDeps, d: Deployment, shares: CanaryShares): Promise<ShareVerification> {
  const state = await deps.registry.getService(d.service);
  const backend = state ? serviceBackend(state) : [];
  const lagging: LaggingProxy[] = [];
  const unverified: string[] = [];
  const reapply: ProxyGroup[] = [];
  // A sidecar group whose service does not call this one carries none of its traffic: nothing to wait for.
  for (const group of await groupsRouting(deps, deps.proxyGroups, d.service)) {
    const split = splitFor(d, undefined, shares.get(group.name) ?? 0);
    const verification = await routerOf(deps, group).verifySplit(group, d.service, backend, split);
    if (verification.state === 'pending') {
      reapply.push(group);
      lagging.push(...verification.lagging.map((l) => inGroup(group, l)));
    } else if (unverifiedReason(group) !== null) {
      unverified.push(group.name);
    } else if (verification.state === 'propagating') {
      lagging.push(...verification.lagging.map((l) => inGroup(group, l)));
    } else if (verification.state === 'unknown') {
      lagging.push({ proxy: group.name, reason: verification.reason });
    }
  }
  if (reapply.length > 0) await programProxies(deps, d.service, state, reapply);
  return { lagging, unverified };
}

/** `group/proxy`, or the group alone when what lags is the group's own configuration. */
function inGroup(group: ProxyGroup, lagging: LaggingProxy): LaggingProxy {
  return { proxy: lagging.proxy === group.name ? group.name : `${group.name}/${lagging.proxy}`, reason: lagging.reason };
}

/** At most this many lagging proxies are named in the error; the rest are counted. */
const NAMED_LAGGING = 5;

/** NotConvergedError for `what` ("step 2/5 of deployment dep_…"), naming the proxies that lag. */
export function notConverged(what: string, lagging: readonly LaggingProxy[]): NotConvergedError {
  const named = lagging.slice(0, NAMED_LAGGING).map((l) => `${l.proxy}: ${l.reason}`);
  const more = lagging.length > NAMED_LAGGING ? ` (and ${lagging.length - NAMED_LAGGING} more)` : '';
  return new NotConvergedError(`${what} is not served yet by ${named.join('; ')}${more}`, lagging.map((l) => l.proxy));
}

const SPLIT_WRITE_ATTEMPTS = 3;

/**
 * Fenced: each split is written with the run's fencing token, and the registry refuses it when a
 * newer holder of the service has written (registry adapter's condition). Seeing a newer token
 * here ends the run the same way: it has lost the service and must not move its traffic.
 */
async function writeSplits(deps: CanaryDeps, d: Deployment, shares: CanaryShares): Promise<ServiceState> {
  const fencingToken = d.run.fencingToken;
  if (fencingToken === null) throw new InternalError(`deployment ${d.id} moves traffic without a fencing token; prepare records it`);
  for (let attempt = 1; ; attempt++) {
    const state = await deps.registry.getService(d.service);
    if (!state) throw new InternalError(`service ${d.service} has no registration; prepare checks it`);
    try {
      const now = deps.clock.now().toISOString();
      for (const group of deps.proxyGroups) {
        const current = state.splits.find((s) => s.proxyGroup === group.name);
        if ((current?.fencingToken ?? 0) > fencingToken) throw fencedOff(d, group.name, current!.fencingToken!);
        const weights = onlyRegistered(splitFor(d, current?.weights, shares.get(group.name) ?? 0), state);
        // The same split under an older token is written again: it claims the split for this holder.
        if (current && sameSplit(current.weights, weights) && current.fencingToken === fencingToken) continue;
        await deps.registry.putSplit({ ...current, service: d.service, proxyGroup: group.name, weights, revision: (current?.revision ?? 0) + 1, updatedAt: now, fencingToken });
      }
      return (await deps.registry.getService(d.service)) ?? state;
    } catch (error) {
      // A registration or a reconciliation wrote meanwhile: read again and redo ours on top.
      if (!(error instanceof VersionConflictError) || attempt >= SPLIT_WRITE_ATTEMPTS) throw error;
    }
  }
}

function fencedOff(d: Deployment, group: string, newer: number): LockLostError {
  return new LockLostError(`deployment ${d.id} lost service ${d.service}: proxy group ${group}'s split was written under a newer lock (fencing token ${newer} > ${d.run.fencingToken}); traffic is left to the newer holder`);
}

/** A version deregistered since (a promoted deployment's baseline, at 0%) leaves the split. */
function onlyRegistered(split: Split, state: ServiceState): Split {
  const registered = new Set(state.versions.map((v) => v.version));
  return Object.fromEntries(Object.entries(split).filter(([version, percent]) => registered.has(version) || percent > 0));
}

/** The same versions at the same percentages: a version the split must name at 0% is written even where it was absent. */
function sameSplit(a: Split, b: Split): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
