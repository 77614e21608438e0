/**
 * What each sidecar group sees (domain/dependencies.ts): its service's declared dependencies and
 * `mesh.alwaysVisible`. One registry read per sidecar service, shared by its groups; a group that
 * is not a sidecar group sees every service and has no scope.
 */
import { sidecarOf, visibleServices } from '../domain/dependencies.js';
import type { ProxyGroup } from '../domain/mesh.js';
import type { XdsDeps } from './xds-deps.js';

/** By sidecar group name, the services it sees; whole groups are absent. */
export type SidecarScopes = ReadonlyMap<string, ReadonlySet<string>>;

export async function sidecarScopes(deps: Pick<XdsDeps, 'registry' | 'alwaysVisible'>, groups: readonly ProxyGroup[]): Promise<SidecarScopes> {
  const owners = [...new Set(groups.flatMap((g) => sidecarOf(g) ?? []))];
  const declared = await Promise.all(owners.map((service) => deps.registry.getDependencies(service)));
  const seen = new Map(owners.map((service, i) => [service, visibleServices(declared[i]?.dependencies, deps.alwaysVisible ?? [])]));
  return new Map(groups.flatMap((g) => {
    const owner = sidecarOf(g);
    return owner === undefined ? [] : [[g.name, seen.get(owner)!] as const];
  }));
}

/** Whether the group's snapshot may route `service`: a whole group routes every service, a sidecar group those it sees. */
export function groupSees(scopes: SidecarScopes, group: string, service: string): boolean {
  return scopes.get(group)?.has(service) ?? true;
}

/** The groups among `groups` whose proxies may route `service` (a step or a registration is read back from these only). */
export async function groupsRouting<G extends ProxyGroup>(deps: Pick<XdsDeps, 'registry' | 'alwaysVisible'>, groups: readonly G[], service: string): Promise<G[]> {
  const scopes = await sidecarScopes(deps, groups);
  return groups.filter((g) => groupSees(scopes, g.name, service));
}
