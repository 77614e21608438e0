/**
 * A group's snapshot as parts (domain/snapshot-parts.ts): one per service, built from that
 * service's registration alone, and the group's own part. Publishing one service's change builds
 * and checks its part only; the snapshot the parts make is exactly `buildSnapshot`'s resources
 * (test/unit/engine/envoy/service-part.test.ts), versioned by XOR of element hashes.
 *
 * Consistency by parts: a snapshot made of parts that are each consistent alone (servicePartProblem)
 * and whose cluster names no two services share (clusterNameOwners) passes every rule of
 * consistency.ts. A service's route names only its own clusters; its api_listener names only its
 * own route; the group's listener names the group route, which exists in every snapshot. So
 * checking the changed service, and the few services its cluster names could collide with, is
 * checking the snapshot.
 */
import { ValidationError } from '../../domain/errors.js';
import { fragmentHash, GROUP_PART, resourceHash, sealPart, type PartResource, type SnapshotPart } from '../../domain/snapshot-parts.js';
import { describeProblems, problemField, snapshotProblems } from './consistency.js';
import type { IsolatedService } from './isolation.js';
import { ENVOY_ROUTE_NAME, groupOwnResources, serviceOnlySnapshot, serviceResources, XDS_PUSH_ORDER, XdsType, type GroupMesh, type ServiceMesh, type SnapshotOptions, type XdsResource } from './snapshot.js';

const ROUTE_HOSTS_FIELD = 'virtual_hosts';

export type PartBuild = { kind: 'part'; part: SnapshotPart } | { kind: 'isolated'; isolated: IsolatedService };

/**
 * The service's part for `group`, or why it is isolated (its own resources break a rule, or its
 * split is invalid): the same judgement isolation.ts makes, for one service.
 */
export function buildServicePart(service: ServiceMesh, group: GroupMesh['group'], options: SnapshotOptions): PartBuild {
  let built;
  try {
    built = serviceResources(service, group, options);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { kind: 'isolated', isolated: { service: service.service, rule: error.rule ?? 'invalid', field: error.field, reason: error.message } };
  }
  const problems = snapshotProblems(serviceOnlySnapshot(group, built, options));
  const first = problems[0];
  if (first) return { kind: 'isolated', isolated: { service: service.service, rule: first.rule, field: problemField(first), reason: describeProblems(problems) } };
  const resources = withHashes(options, built.resources);
  const fragment = { typeUrl: XdsType.Route, resource: ENVOY_ROUTE_NAME, field: ROUTE_HOSTS_FIELD, value: built.envoyHost };
  return { kind: 'part', part: sealPart(options.hash, service.service, XDS_PUSH_ORDER, resources, [{ ...fragment, hash: fragmentHash(options.hash, fragment.typeUrl, fragment.resource, fragment.value) }]) };
}

/** The group's own part: the Envoy listener, and the Envoy route's shell (its virtual hosts are the services' fragments). */
export function buildGroupPart(options: SnapshotOptions): SnapshotPart {
  return sealPart(options.hash, GROUP_PART, XDS_PUSH_ORDER, withHashes(options, groupOwnResources(options)), []);
}

/**
 * The other services that could own a cluster named like one of `part`'s: `a--x--v1` is `a`'s
 * version `x--v1` or `a--x`'s version `v1`. Only names with a `--` inside the service or the
 * version have any, so almost every publish reads none.
 */
export function clusterNameOwners(part: SnapshotPart): string[] {
  const owners = new Set<string>();
  for (const { name } of part.resources[XdsType.Cluster] ?? []) for (const owner of servicesNaming(name)) if (owner !== part.service) owners.add(owner);
  return [...owners].sort();
}

/** Every service whose cluster could have this name: the name before each `--` in it. */
export function servicesNaming(clusterName: string): string[] {
  const services: string[] = [];
  for (let at = clusterName.indexOf('--'); at > 0; at = clusterName.indexOf('--', at + 1)) services.push(clusterName.slice(0, at));
  return services;
}

/** The cluster name `part` shares with another service's part, if any (a problem between services: the group's publish is refused). */
export function sharedClusterName(part: SnapshotPart, others: readonly SnapshotPart[]): { name: string; service: string } | undefined {
  const mine = new Set((part.resources[XdsType.Cluster] ?? []).map((r) => r.name));
  for (const other of others) {
    if (other.service === part.service) continue;
    const shared = (other.resources[XdsType.Cluster] ?? []).find((r) => mine.has(r.name));
    if (shared) return { name: shared.name, service: other.service };
  }
  return undefined;
}

function withHashes(options: SnapshotOptions, resources: Readonly<Record<string, readonly XdsResource[]>>): Record<string, PartResource[]> {
  const out: Record<string, PartResource[]> = {};
  for (const typeUrl of XDS_PUSH_ORDER) {
    out[typeUrl] = [...(resources[typeUrl] ?? [])]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((r) => ({ name: r.name, resource: r.resource, hash: resourceHash(options.hash, typeUrl, r.resource) }));
  }
  return out;
}
