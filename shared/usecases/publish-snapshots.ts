/**
 * Publishing the Envoy groups' snapshots, incrementally (docs/dataplane.md "Incremental
 * publishing"): a step, a registration or a deregistration names its service in `services` and
 * publishes that service's part alone into the per-service layout (ports/part-store.ts). Per group
 * and named service: one registry Query (shared by the groups), one part built and checked alone,
 * the service's bucket read and written, the part written, the HEAD written — the same requests at
 * 10 services and at 10,000. Idempotent: a part that did not change writes nothing.
 *
 * Every HEAD it writes names a consistent snapshot: each part is checked alone (a service breaking
 * a rule of its own is isolated: left out and named, engine/envoy/isolation.ts), and the only
 * problem between services, two of them making one cluster name, is looked for among the few
 * services such a name could belong to (engine/envoy/service-part.ts); found, the group's publish
 * is refused and its proxies keep the HEAD they have.
 *
 * Without `services`, the whole registry is published: every service's part is built and the
 * parts of services no longer registered are removed (reconciliation of everything, a group's
 * first publish); parts whose content did not change are not written again.
 *
 * Sidecar groups (`proxyGroups[].sidecarOf`, domain/dependencies.ts) get only what they see: a
 * named service reaches the sidecar groups whose service depends on it (or that see it through
 * `mesh.alwaysVisible`), one registry read per sidecar service's dependency list per attempt; a
 * sidecar group's whole publish reads only the services it sees, never the registry's list, and
 * removes the parts of the others (a dependency dropped).
 *
 * Order matters for racing publishers: every HEAD is read before the registry. A publish that won
 * the race wrote the registry before its HEAD, so this one either sees that registry state or
 * finds the HEAD moved (VersionConflictError), re-reads both and rebuilds; it never puts an older
 * registry state over a newer one.
 */
import { mapConcurrently } from '../domain/concurrency.js';
import { VersionConflictError } from '../domain/errors.js';
import { DEFAULT_XDS_TRANSPORT } from '../domain/mesh.js';
import type { SnapshotPart } from '../domain/snapshot-parts.js';
import type { IsolatedService } from '../engine/envoy/isolation.js';
import { buildGroupPart, buildServicePart, clusterNameOwners, sharedClusterName } from '../engine/envoy/service-part.js';
import type { ConfigSourceFlavour } from '../engine/envoy/snapshot.js';
import type { ServiceState } from '../ports/mesh-registry.js';
import type { PartsHead } from '../ports/part-store.js';
import { groupSees, sidecarScopes, type SidecarScopes } from './sidecar-scope.js';
import type { EnvoyGroup, XdsDeps } from './xds-deps.js';

export interface PublishRequest {
  /** Only these proxy groups (a wave); default: every Envoy group. */
  groups?: readonly string[];
  /** Only these services' parts (a step, a registration, a deregistration); default: the whole registry. */
  services?: readonly string[];
}

/**
 * `isolated`: services left out of the group's snapshot because their own resources break a
 * consistency rule (engine/envoy/isolation.ts); every other service was published.
 */
export type GroupPublication =
  | { group: string; outcome: 'published'; revision: number; versions: Record<string, string>; partsWritten: number; isolated: IsolatedService[] }
  | { group: string; outcome: 'unchanged'; revision: number; versions: Record<string, string>; isolated: IsolatedService[] }
  /** The snapshot broke a rule between services (two resources of one name): nothing was written, the proxies keep the last one. */
  | { group: string; outcome: 'refused'; reason: string; field: string | undefined; rule: string | undefined };

export interface PublishReport {
  /** Every group published into: a sidecar group that sees none of the named services is not touched, and not listed. */
  groups: GroupPublication[];
  /** Services read that are left out of every snapshot: no version has an endpoint, so there is nothing to route to. */
  withoutEndpoints: string[];
}

const PUBLISH_ATTEMPTS = 3;
/** getService calls in flight: one Query each. */
const READ_CONCURRENCY = 16;

export async function publishSnapshots(deps: XdsDeps, request: PublishRequest = {}): Promise<PublishReport> {
  const groups = deps.proxyGroups.filter((g): g is EnvoyGroup => g.kind === 'envoy' && (request.groups === undefined || request.groups.includes(g.name)));
  const results = new Map<string, GroupPublication>();
  let withoutEndpoints: string[] = [];
  let remaining = groups;
  for (let attempt = 1; remaining.length > 0; attempt++) {
    const heads = new Map(await Promise.all(remaining.map(async (group) => [group.name, await deps.parts.head(group.name)] as const)));
    // Dependencies are registry state: read after the HEADs, like the services (see above); the
    // named services are read at the same time (a step waits for one round trip, not two).
    const [scopes, named] = await Promise.all([sidecarScopes(deps, remaining), request.services ? readStates(deps, request.services) : undefined]);
    const touched = request.services ? remaining.filter((g) => request.services!.some((service) => groupSees(scopes, g.name, service))) : remaining;
    const states = named ?? (await readStates(deps, await wholeNames(deps, touched, scopes)));
    withoutEndpoints = [...states.values()].filter((s): s is ServiceState => s !== undefined && !routable(s)).map((s) => s.service);
    const conflicted: EnvoyGroup[] = [];
    for (const group of touched) {
      try {
        const head = heads.get(group.name);
        const seen = scoped(states, scopes.get(group.name));
        const stale = request.services || !head ? [] : [...(await deps.parts.manifest(head)).keys()].filter((service) => !seen.has(service));
        results.set(group.name, await publishGroup(deps, group, seen, stale, head));
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= PUBLISH_ATTEMPTS) throw error;
        conflicted.push(group);
      }
    }
    remaining = conflicted;
  }
  const report = { groups: groups.flatMap((g) => results.get(g.name) ?? []), withoutEndpoints };
  const refused = report.groups.filter((g) => g.outcome === 'refused');
  if (refused.length > 0) deps.logger.warn('snapshots refused', { groups: refused });
  const isolated = report.groups.flatMap((g) => (g.outcome === 'refused' ? [] : g.isolated.map((i) => ({ group: g.group, ...i }))));
  if (isolated.length > 0) deps.logger.warn('services isolated from snapshots: every other service was published', { isolated });
  deps.logger.info('snapshots published', { outcomes: Object.fromEntries(report.groups.map((g) => [g.group, g.outcome])), services: request.services?.length ?? 'all', withoutEndpoints: withoutEndpoints.length });
  return report;
}

/**
 * The services a whole publish reads: the registry's list when a whole group is published, and
 * for sidecar groups alone only what they see (the registry is never listed).
 */
async function wholeNames(deps: XdsDeps, groups: readonly EnvoyGroup[], scopes: SidecarScopes): Promise<string[]> {
  if (groups.some((g) => !scopes.has(g.name))) return deps.registry.listServices();
  return [...new Set(groups.flatMap((g) => [...scopes.get(g.name)!]))].sort();
}

async function readStates(deps: XdsDeps, services: readonly string[]): Promise<Map<string, ServiceState | undefined>> {
  const names = [...new Set(services)].sort();
  return new Map((await mapConcurrently(names, READ_CONCURRENCY, (name) => deps.registry.getService(name))).map((state, i) => [names[i]!, state]));
}

/** The states a group is built from: all of them for a whole group, those it sees for a sidecar group. */
function scoped(states: ReadonlyMap<string, ServiceState | undefined>, seen: ReadonlySet<string> | undefined): ReadonlyMap<string, ServiceState | undefined> {
  return seen ? new Map([...states].filter(([service]) => seen.has(service))) : states;
}

/** How an Envoy group's snapshot points at its EDS and RDS (mesh.ts `XdsTransport`). */
export function configSourceOf(group: EnvoyGroup): ConfigSourceFlavour {
  const transport = group.xds ?? DEFAULT_XDS_TRANSPORT;
  if (transport.api === 'ads') return { kind: 'ads' };
  return { kind: 'rest', xdsCluster: transport.clusterName, refreshDelaySeconds: transport.refreshDelaySeconds, requestTimeoutSeconds: transport.requestTimeoutSeconds };
}

/** Whether some version of the service has an endpoint: a service with none has nothing to route to, and is left out of every snapshot. */
export function routable(state: ServiceState): boolean {
  return state.versions.some((v) => v.clusters.some((c) => c.endpoints.length > 0));
}

async function publishGroup(deps: XdsDeps, group: EnvoyGroup, states: ReadonlyMap<string, ServiceState | undefined>, stale: readonly string[], head: PartsHead | undefined): Promise<GroupPublication> {
  const options = { hash: deps.hash, configSource: configSourceOf(group) };
  const put: SnapshotPart[] = [];
  const remove = [...stale];
  const isolated: IsolatedService[] = [];
  for (const [service, state] of states) {
    // A service gets a split in a group when it is registered; one without, or with nothing to route to, has no part.
    const split = state?.splits.find((s) => s.proxyGroup === group.name);
    if (!state || !split || !routable(state)) {
      remove.push(service);
      continue;
    }
    const built = buildServicePart({ service, versions: state.versions, split: split.weights }, group, options);
    if (built.kind === 'isolated') {
      isolated.push(built.isolated);
      remove.push(service);
    } else put.push(built.part);
  }
  const collision = await findCollision(deps, head, put, new Set([...states.keys(), ...stale]));
  if (collision) return { group: group.name, outcome: 'refused', ...collision };

  const published = await deps.parts.publish(group.name, { groupPart: buildGroupPart(options), put, remove }, head, deps.clock.now().toISOString());
  const { revision, versions } = published.head;
  return published.outcome === 'published'
    ? { group: group.name, outcome: 'published', revision, versions: { ...versions }, partsWritten: published.partsWritten, isolated }
    : { group: group.name, outcome: 'unchanged', revision, versions: { ...versions }, isolated };
}

/** Two services making one cluster name, among the new parts and the stored parts of the services such a name could belong to. */
async function findCollision(deps: XdsDeps, head: PartsHead | undefined, put: readonly SnapshotPart[], changing: ReadonlySet<string>): Promise<{ reason: string; field: string; rule: string } | undefined> {
  const owners = [...new Set(put.flatMap(clusterNameOwners))].filter((service) => !changing.has(service));
  const stored = head && owners.length > 0 ? [...(await deps.parts.parts(head, owners)).values()] : [];
  for (const part of put) {
    const shared = sharedClusterName(part, [...stored, ...put]);
    if (shared) return { reason: `services ${part.service} and ${shared.service} both make Cluster "${shared.name}"`, field: `Cluster/${shared.name}`, rule: 'duplicate-name' };
  }
  return undefined;
}
