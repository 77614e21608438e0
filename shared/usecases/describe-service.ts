/** A service as the mesh sees it (docs/api.md `GET /v1/services/{service}`). */
import { CrossfadeError, InternalError, NotFoundError } from '../domain/errors.js';
import { unverifiedReason, type ClusterEndpoints, type ProxyGroup, type Split } from '../domain/mesh.js';
import { isolationOf } from '../engine/envoy/isolation.js';
import { XDS_PUSH_ORDER } from '../engine/envoy/snapshot.js';
import type { ServiceState } from '../ports/mesh-registry.js';
import type { PartStore } from '../ports/part-store.js';
import type { ProxyAck, SnapshotStore } from '../ports/snapshot-store.js';
import type { Verification } from '../ports/traffic-router.js';
import type { MeshDeps } from './mesh-deps.js';
import { configSourceOf, routable } from './publish-snapshots.js';
import type { ReconcileDeps } from './reconcile-mesh.js';
import { serviceBackend } from './service-backend.js';
import { groupsRouting } from './sidecar-scope.js';
import type { XdsDeps } from './xds-deps.js';
import { routerOf } from './router-of.js';

/** Whether a group serves the service's split: a proxy's answer, or `unverified` when the group lists no proxy to ask. */
export type GroupVerification = Exclude<Verification, { state: 'propagating' }> | { state: 'unverified'; reason: string };

export interface ServiceView {
  service: string;
  versions: { version: string; registeredAt: string; registeredBy: string; clusters: ClusterEndpoints[] }[];
  /** Per proxy group, the split it should serve. */
  weights: Record<string, Split>;
  /** Per proxy group, its proxies and the configuration version each acknowledged (null: none yet). */
  proxies: Record<string, { proxy: string; acknowledgedVersion: string | null }[]>;
  /** Per proxy group, the configuration version published for it (null: none, or an HAProxy group, which has no versions). */
  publishedVersions: Record<string, string | null>;
  /** Per proxy group with a split that routes the service (not a sidecar group of a service that does not call it), whether its proxies serve it (asked now through its router). */
  verification: Record<string, GroupVerification>;
  /**
   * Per Envoy group whose snapshot leaves the service out because its resources break a
   * consistency rule (engine/envoy/isolation.ts), the rule and why. Absent when there is none.
   */
  isolated?: Record<string, { rule: string; field: string | undefined; reason: string }>;
}

export type DescribeDeps = Pick<MeshDeps, 'registry' | 'proxyGroups' | 'clock'> & Pick<XdsDeps, 'alwaysVisible'> & { snapshots: SnapshotStore; parts: PartStore; routers?: ReconcileDeps['routers'] };

/**
 * An Envoy configuration version names the version of each xDS type, in push order (CDS.EDS.LDS.RDS):
 * a proxy's acknowledged version equals its group's published version exactly when it runs all of it.
 */
export function configVersion(versionOf: (typeUrl: string) => string | undefined): string {
  return XDS_PUSH_ORDER.map((typeUrl) => versionOf(typeUrl) || '-').join('.');
}

export async function describeService(deps: DescribeDeps, service: string): Promise<ServiceView> {
  const state = await deps.registry.getService(service);
  if (!state) throw new NotFoundError(`service ${service} has no registered version`);
  const groups = await Promise.all(deps.proxyGroups.map((group) => describeGroup(deps, group)));
  // A sidecar group whose service does not call this one routes none of it: nothing to verify there.
  const routing = await groupsRouting(deps, deps.proxyGroups, service);
  const verification = await Promise.all(routing.map(async (group) => [group.name, await verificationOf(deps, group, state)] as const));
  const isolated = isolations(deps.proxyGroups, state);
  return {
    service,
    versions: state.versions
      .map(({ version, registeredAt, registeredBy, clusters }) => ({ version, registeredAt, registeredBy, clusters }))
      .sort((a, b) => a.registeredAt.localeCompare(b.registeredAt)),
    weights: Object.fromEntries(state.splits.map((s) => [s.proxyGroup, s.weights])),
    proxies: Object.fromEntries(groups.map((g) => [g.name, g.proxies])),
    publishedVersions: Object.fromEntries(groups.map((g) => [g.name, g.published])),
    verification: Object.fromEntries(verification.filter((entry): entry is readonly [string, GroupVerification] => entry[1] !== undefined)),
    ...(Object.keys(isolated).length > 0 ? { isolated } : {}),
  };
}

async function describeGroup({ snapshots, parts }: Pick<DescribeDeps, 'snapshots' | 'parts'>, group: ProxyGroup): Promise<{ name: string; published: string | null; proxies: ServiceView['proxies'][string] }> {
  // HAProxy instances are read back, not versioned: they have nothing to acknowledge.
  if (group.kind !== 'envoy') return { name: group.name, published: null, proxies: group.proxies.map((p) => ({ proxy: p.name, acknowledgedVersion: null })) };
  const [head, acks] = await Promise.all([parts.head(group.name), snapshots.listAcks(group.name)]);
  return {
    name: group.name,
    published: head ? configVersion((typeUrl) => head.versions[typeUrl]) : null,
    proxies: group.proxies.map(({ nodeId }) => ({ proxy: nodeId, acknowledgedVersion: acknowledged(acks.filter((a) => a.nodeId === nodeId)) })),
  };
}

/**
 * undefined for a group where the service has no split (nothing to verify). Every kind is asked
 * through its router (router-of.ts); an Envoy node that has not taken the published snapshot up
 * yet ('propagating') reads as `pending` here, as this answer has always said it.
 */
async function verificationOf(deps: DescribeDeps, group: ProxyGroup, state: ServiceState): Promise<GroupVerification | undefined> {
  const split = state.splits.find((s) => s.proxyGroup === group.name);
  if (!split) return undefined;
  const reason = unverifiedReason(group);
  if (reason !== null) return { state: 'unverified', reason };
  try {
    const verification = await routerOf(deps, group).verifySplit(group, state.service, serviceBackend(state), split.weights);
    return verification.state === 'propagating' ? { state: 'pending', lagging: verification.lagging } : verification;
  } catch (error) {
    if (!(error instanceof CrossfadeError)) throw error;
    return { state: 'unknown', reason: error instanceof InternalError ? `no ${group.kind} router here to ask proxy group ${group.name}` : `${error.name}: ${error.message}` };
  }
}

/** What publishing would leave out for each Envoy group, decided by the same check (pure, the service's resources only). */
function isolations(groups: readonly ProxyGroup[], state: ServiceState): NonNullable<ServiceView['isolated']> {
  const found: NonNullable<ServiceView['isolated']> = {};
  if (!routable(state)) return found;
  for (const group of groups) {
    const split = state.splits.find((s) => s.proxyGroup === group.name);
    if (group.kind !== 'envoy' || !split) continue;
    const isolated = isolationOf({ service: state.service, versions: state.versions, split: split.weights }, group, { configSource: configSourceOf(group) });
    if (isolated) found[group.name] = { rule: isolated.rule, field: isolated.field, reason: isolated.reason };
  }
  return found;
}

/** null until the node reported running some version. */
function acknowledged(acks: readonly ProxyAck[]): string | null {
  if (acks.every((a) => a.version === '')) return null;
  return configVersion((typeUrl) => acks.find((a) => a.typeUrl === typeUrl)?.version);
}
