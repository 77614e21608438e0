/**
 * Programming the proxies from the registry: the one path by which a service's splits and
 * endpoints reach HAProxy and Envoy (after a traffic step, a registration, a deregistration).
 *
 * The registry is the source of truth and the only place traffic is decided (and fenced, see
 * usecases/canary/traffic.ts): whoever programs a proxy puts into it what the registry says *now*,
 * never a split of its own. HAProxy has no conditional write, so a slow writer could put an older
 * registry state over a newer one; after applying, the registry is read again and, when a split
 * changed meanwhile, the newer one is applied (a few times at most; convergence checks and
 * reconciliation repair the rest).
 */
import { CrossfadeError } from '../domain/errors.js';
import type { ProxyGroup } from '../domain/mesh.js';
import type { ServiceState } from '../ports/mesh-registry.js';
import type { Publish } from './coalescing-publisher.js';
import type { ReconcileDeps } from './reconcile-mesh.js';
import { isSourcedFromRegistry, routerOf } from './router-of.js';
import { serviceBackend } from './service-backend.js';

export interface ProgramDeps extends ReconcileDeps {
  /** Publishing shared by this process (usecases/coalescing-publisher.ts), for the Envoy router; default: one per deps (router-of.ts). */
  publish?: Publish;
}

/** How many times a split that changed while it was applied is applied again. */
const REAPPLY_ATTEMPTS = 3;

/**
 * Puts `service` as the registry holds it into every proxy group (or `groups`). `state` is the
 * registry's state when the caller has just read or written it. Returns the state last applied.
 * Every group is attempted; then the error of a group that failed is thrown (one that retrying
 * cannot fix first), as a router's applySplit throws it.
 */
export async function programProxies(deps: ProgramDeps, service: string, state?: ServiceState, groups: readonly ProxyGroup[] = deps.proxyGroups): Promise<ServiceState | undefined> {
  const programmed = await programGroups(deps, service, state, groups);
  const failures = [...programmed.failures.values()];
  const worst = failures.find((failure) => !(failure instanceof CrossfadeError && failure.retryable)) ?? failures[0];
  if (worst !== undefined) throw worst;
  return programmed.state;
}

/** What programming did, for callers that report per group rather than throw (usecases/program-service.ts). */
export interface Programming {
  /** The registry's state last applied; undefined when nothing is registered. */
  state: ServiceState | undefined;
  /** Per group that could not be programmed, what its router threw. */
  failures: ReadonlyMap<string, unknown>;
}

/**
 * Every group through its router (router-of.ts), all at once: one group's failure does not keep
 * the others from theirs, and the Envoy groups' publishes, asked in the same turn, are one.
 * Then, for routers that put in their arguments (HAProxy), the registry is read again and a split
 * that changed meanwhile is applied again; routers that publish from the registry themselves
 * (ports/traffic-router.ts RegistrySourcedRouter) need no second look.
 */
export async function programGroups(deps: ProgramDeps, service: string, state?: ServiceState, groups: readonly ProxyGroup[] = deps.proxyGroups): Promise<Programming> {
  let current = state ?? (await deps.registry.getService(service));
  if (!current) return { state: undefined, failures: new Map() };
  let failures = await applyToRouters(deps, current, groups);
  // A group that failed fails again on a newer split: the caller hears of it now.
  const unconditional = failures.size > 0 ? [] : groups.filter((group) => current!.splits.some((s) => s.proxyGroup === group.name) && !isSourcedFromRegistry(routerOf(deps, group)));
  for (let attempt = 1; unconditional.length > 0; attempt++) {
    const after = await deps.registry.getService(service);
    if (!after || sameSplits(after, current) || attempt >= REAPPLY_ATTEMPTS) return { state: after ?? current, failures };
    deps.logger.info('split changed while it was applied: applying the newer one', { service, attempt });
    current = after;
    failures = await applyToRouters(deps, current, unconditional);
    if (failures.size > 0) break;
  }
  return { state: current, failures };
}

/** Applies the state's split to each group, concurrently; by group name, what each router threw. */
async function applyToRouters(deps: ProgramDeps, state: ServiceState, groups: readonly ProxyGroup[]): Promise<Map<string, unknown>> {
  const backend = serviceBackend(state);
  const failures = new Map<string, unknown>();
  await Promise.all(
    groups.map(async (group) => {
      const split = state.splits.find((s) => s.proxyGroup === group.name);
      if (!split) return;
      try {
        await routerOf(deps, group).applySplit(group, state.service, backend, split.weights);
      } catch (error) {
        failures.set(group.name, error);
      }
    }),
  );
  return failures;
}

function sameSplits(a: ServiceState, b: ServiceState): boolean {
  const revisions = (s: ServiceState) => s.splits.map((split) => `${split.proxyGroup}@${split.revision}`).sort().join(',');
  return revisions(a) === revisions(b) && a.versions.map((v) => `${v.version}@${v.revision}`).sort().join(',') === b.versions.map((v) => `${v.version}@${v.revision}`).sort().join(',');
}
