/**
 * Incremental publishing (docs/dataplane.md "Incremental publishing"): a step, a registration or a
 * deregistration publishes the parts of the services it changed, and nothing else, into the
 * per-service layout (ports/part-store.ts). Per group and changed service: one registry Query (shared
 * by the groups), one part built and checked alone, the service's bucket read and written, the
 * part written, the HEAD written — the same requests at 10 services and at 10,000.
 *
 * Every HEAD it writes names a consistent snapshot: each part is checked alone (a service breaking
 * a rule of its own is isolated: left out and named, as publish-snapshots.ts does), and the only
 * problem between services, two of them making one cluster name, is looked for among the few
 * services such a name could belong to (engine/envoy/service-part.ts); found, the group's publish
 * is refused and its proxies keep the HEAD they have.
 *
 * Without `services`, the whole registry is published: every service's part is built and the
 * parts of services no longer registered are removed (reconciliation, a group's first publish);
 * parts whose content did not change are not written again.
 *
 * Order as in publish-snapshots.ts: every HEAD is read before the registry, so a publish never puts
 * an older registry state over a newer one (it finds the HEAD moved, and rebuilds).
 */
import { mapConcurrently } from '../domain/concurrency.js';
import { VersionConflictError } from '../domain/errors.js';
import type { SnapshotPart } from '../domain/snapshot-parts.js';
import type { IsolatedService } from '../engine/envoy/isolation.js';
import { buildGroupPart, buildServicePart, clusterNameOwners, sharedClusterName } from '../engine/envoy/service-part.js';
import type { ServiceState } from '../ports/mesh-registry.js';
import type { PartsHead, PartStore } from '../ports/part-store.js';
import { configSourceOf, routable, type GroupPublication, type PublishRequest } from './publish-snapshots.js';
import type { EnvoyGroup, XdsDeps } from './xds-deps.js';

export type PartsDeps = Omit<XdsDeps, 'snapshots'> & { parts: PartStore };

/** publish-snapshots.ts's report, per group; `partsWritten` for a publication. */
export type GroupPartsPublication = Exclude<GroupPublication, { outcome: 'published' }> | { group: string; outcome: 'published'; revision: number; versions: Record<string, string>; partsWritten: number; isolated: IsolatedService[] };

export interface PartsPublishReport {
  groups: GroupPartsPublication[];
}

const PUBLISH_ATTEMPTS = 3;
const READ_CONCURRENCY = 16;

/** `request.services`: publish only these services' parts; absent: the whole registry. */
export async function publishParts(deps: PartsDeps, request: PublishRequest = {}): Promise<PartsPublishReport> {
  const groups = deps.proxyGroups.filter((g): g is EnvoyGroup => g.kind === 'envoy' && (request.groups === undefined || request.groups.includes(g.name)));
  const results = new Map<string, GroupPartsPublication>();
  let remaining = groups;
  for (let attempt = 1; remaining.length > 0; attempt++) {
    const heads = await Promise.all(remaining.map((group) => deps.parts.head(group.name)));
    const names = request.services ? [...new Set(request.services)].sort() : await deps.registry.listServices();
    const states = new Map((await mapConcurrently(names, READ_CONCURRENCY, (name) => deps.registry.getService(name))).map((state, i) => [names[i]!, state]));
    const conflicted: EnvoyGroup[] = [];
    for (const [index, group] of remaining.entries()) {
      try {
        const head = heads[index];
        const stale = request.services || !head ? [] : [...(await deps.parts.manifest(head)).keys()].filter((service) => !states.has(service));
        results.set(group.name, await publishGroup(deps, group, states, stale, head));
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= PUBLISH_ATTEMPTS) throw error;
        conflicted.push(group);
      }
    }
    remaining = conflicted;
  }
  const report = { groups: groups.map((g) => results.get(g.name)!) };
  const refused = report.groups.filter((g) => g.outcome === 'refused');
  if (refused.length > 0) deps.logger.warn('snapshots refused', { groups: refused });
  const isolated = report.groups.flatMap((g) => (g.outcome === 'refused' ? [] : g.isolated.map((i) => ({ group: g.group, ...i }))));
  if (isolated.length > 0) deps.logger.warn('services isolated from snapshots: every other service was published', { isolated });
  return report;
}

async function publishGroup(deps: PartsDeps, group: EnvoyGroup, states: ReadonlyMap<string, ServiceState | undefined>, stale: readonly string[], head: PartsHead | undefined): Promise<GroupPartsPublication> {
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
async function findCollision(deps: PartsDeps, head: PartsHead | undefined, put: readonly SnapshotPart[], changing: ReadonlySet<string>): Promise<{ reason: string; field: string; rule: string } | undefined> {
  const owners = [...new Set(put.flatMap(clusterNameOwners))].filter((service) => !changing.has(service));
  const stored = head && owners.length > 0 ? [...(await deps.parts.parts(head, owners)).values()] : [];
  for (const part of put) {
    const shared = sharedClusterName(part, [...stored, ...put]);
    if (shared) return { reason: `services ${part.service} and ${shared.service} both make Cluster "${shared.name}"`, field: `Cluster/${shared.name}`, rule: 'duplicate-name' };
  }
  return undefined;
}
