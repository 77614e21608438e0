/**
 * Publishing the Envoy groups' snapshots: build each group's snapshot from the whole registry,
 * check it, and publish it when its content changed (docs/architecture.md "Where config reaches the
 * proxies"). A service whose own resources break a consistency rule is left out and named
 * (engine/envoy/isolation.ts), so it cannot hold back every other service's routes. Idempotent:
 * when nothing changed it only reads. Called after
 * anything that changes what proxies should serve (a registration, a split, reconciliation).
 *
 * Order matters for racing publishers: every HEAD is read before the registry. A publish that won
 * the race wrote the registry before its HEAD, so this one either sees that registry state or
 * finds the HEAD moved (VersionConflictError), re-reads both and rebuilds; it never puts an older
 * registry state over a newer one. (Services come from an eventually consistent listing: name the
 * ones just registered in `services` so a fresh one is never missed.)
 */
import { mapConcurrently } from '../domain/concurrency.js';
import { ValidationError, VersionConflictError } from '../domain/errors.js';
import { DEFAULT_XDS_TRANSPORT } from '../domain/mesh.js';
import { buildIsolatingSnapshot, type IsolatedService } from '../engine/envoy/isolation.js';
import type { ConfigSourceFlavour, GroupMesh } from '../engine/envoy/snapshot.js';
import type { ServiceState } from '../ports/mesh-registry.js';
import type { SnapshotHead } from '../ports/snapshot-store.js';
import type { EnvoyGroup, XdsDeps } from './xds-deps.js';

export interface PublishRequest {
  /** Only these proxy groups (a wave); default: every Envoy group. */
  groups?: readonly string[];
  /** Services to read even when the listing does not show them yet (the one just registered). */
  services?: readonly string[];
}

/**
 * `isolated`: services left out of the group's snapshot because their own resources break a
 * consistency rule (engine/envoy/isolation.ts); every other service was published.
 */
export type GroupPublication =
  | { group: string; outcome: 'published'; revision: number; versions: Record<string, string>; chunksWritten: number; isolated: IsolatedService[] }
  | { group: string; outcome: 'unchanged'; revision: number; versions: Record<string, string>; isolated: IsolatedService[] }
  /** The snapshot broke a rule between services (two resources of one name): nothing was written, the proxies keep the last one. */
  | { group: string; outcome: 'refused'; reason: string; field: string | undefined; rule: string | undefined };

export interface PublishReport {
  groups: GroupPublication[];
  /** Services left out of every snapshot: no version has an endpoint, so there is nothing to route to. */
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
    const heads = await Promise.all(remaining.map((group) => deps.snapshots.head(group.name)));
    const mesh = await readMesh(deps, request.services ?? []);
    withoutEndpoints = mesh.withoutEndpoints;
    const conflicted: EnvoyGroup[] = [];
    for (const [index, group] of remaining.entries()) {
      try {
        results.set(group.name, await publishGroup(deps, group, mesh.services, heads[index]));
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= PUBLISH_ATTEMPTS) throw error;
        conflicted.push(group);
      }
    }
    remaining = conflicted;
  }
  const report = { groups: groups.map((g) => results.get(g.name)!), withoutEndpoints };
  const refused = report.groups.filter((g) => g.outcome === 'refused');
  if (refused.length > 0) deps.logger.warn('snapshots refused', { groups: refused });
  const isolated = report.groups.flatMap((g) => (g.outcome === 'refused' ? [] : g.isolated.map((i) => ({ group: g.group, ...i }))));
  if (isolated.length > 0) deps.logger.warn('services isolated from snapshots: every other service was published', { isolated });
  deps.logger.info('snapshots published', { outcomes: Object.fromEntries(report.groups.map((g) => [g.group, g.outcome])), withoutEndpoints: withoutEndpoints.length });
  return report;
}

/** How an Envoy group's snapshot points at its EDS and RDS (mesh.ts `XdsTransport`). */
export function configSourceOf(group: EnvoyGroup): ConfigSourceFlavour {
  const transport = group.xds ?? DEFAULT_XDS_TRANSPORT;
  if (transport.api === 'ads') return { kind: 'ads' };
  return { kind: 'rest', xdsCluster: transport.clusterName, refreshDelaySeconds: transport.refreshDelaySeconds, requestTimeoutSeconds: transport.requestTimeoutSeconds };
}

async function readMesh(deps: XdsDeps, mustInclude: readonly string[]): Promise<{ services: ServiceState[]; withoutEndpoints: string[] }> {
  const names = [...new Set([...(await deps.registry.listServices()), ...mustInclude])].sort();
  const states = (await mapConcurrently(names, READ_CONCURRENCY, (name) => deps.registry.getService(name))).filter((s): s is ServiceState => s !== undefined);
  return { services: states.filter(routable), withoutEndpoints: states.filter((s) => !routable(s)).map((s) => s.service) };
}

/** Whether some version of the service has an endpoint: a service with none has nothing to route to, and is left out of every snapshot. */
export function routable(state: ServiceState): boolean {
  return state.versions.some((v) => v.clusters.some((c) => c.endpoints.length > 0));
}

async function publishGroup(deps: XdsDeps, group: EnvoyGroup, states: readonly ServiceState[], head: SnapshotHead | undefined): Promise<GroupPublication> {
  // A service gets a split in a group when it is registered; one registered before the group was configured has none until re-registered.
  const mesh: GroupMesh = {
    group,
    services: states.flatMap((state) => {
      const split = state.splits.find((s) => s.proxyGroup === group.name);
      return split ? [{ service: state.service, versions: state.versions, split: split.weights }] : [];
    }),
  };
  let built;
  try {
    built = buildIsolatingSnapshot(mesh, { hash: deps.hash, configSource: configSourceOf(group) });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { group: group.name, outcome: 'refused', reason: error.message, field: error.field, rule: error.rule };
  }
  const { snapshot, isolated } = built;
  const published = await deps.snapshots.publish(snapshot, head, deps.clock.now().toISOString());
  const versions = Object.fromEntries(Object.entries(published.head.types).map(([typeUrl, t]) => [typeUrl, t.version]));
  return published.outcome === 'published'
    ? { group: group.name, outcome: 'published', revision: published.head.revision, versions, chunksWritten: published.chunksWritten, isolated }
    : { group: group.name, outcome: 'unchanged', revision: published.head.revision, versions, isolated };
}
