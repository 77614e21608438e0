/** A service as the mesh sees it (API.md `GET /v1/services/{service}`). */
import { NotFoundError } from '../domain/errors.js';
import type { ClusterEndpoints, ProxyGroup, Split } from '../domain/mesh.js';
import { XDS_PUSH_ORDER } from '../engine/envoy/snapshot.js';
import type { ProxyAck, SnapshotStore } from '../ports/snapshot-store.js';
import type { MeshDeps } from './mesh-deps.js';

export interface ServiceView {
  service: string;
  versions: { version: string; registeredAt: string; registeredBy: string; clusters: ClusterEndpoints[] }[];
  /** Per proxy group, the split it should serve. */
  weights: Record<string, Split>;
  /** Per proxy group, its proxies and the configuration version each acknowledged (null: none yet). */
  proxies: Record<string, { proxy: string; acknowledgedVersion: string | null }[]>;
  /** Per proxy group, the configuration version published for it (null: none, or an HAProxy group, which has no versions). */
  publishedVersions: Record<string, string | null>;
}

/**
 * An Envoy configuration version names the version of each xDS type, in push order (CDS.EDS.LDS.RDS):
 * a proxy's acknowledged version equals its group's published version exactly when it runs all of it.
 */
export function configVersion(versionOf: (typeUrl: string) => string | undefined): string {
  return XDS_PUSH_ORDER.map((typeUrl) => versionOf(typeUrl) || '-').join('.');
}

export async function describeService(deps: Pick<MeshDeps, 'registry' | 'proxyGroups'> & { snapshots: SnapshotStore }, service: string): Promise<ServiceView> {
  const state = await deps.registry.getService(service);
  if (!state) throw new NotFoundError(`service ${service} has no registered version`);
  const groups = await Promise.all(deps.proxyGroups.map((group) => describeGroup(deps.snapshots, group)));
  return {
    service,
    versions: state.versions
      .map(({ version, registeredAt, registeredBy, clusters }) => ({ version, registeredAt, registeredBy, clusters }))
      .sort((a, b) => a.registeredAt.localeCompare(b.registeredAt)),
    weights: Object.fromEntries(state.splits.map((s) => [s.proxyGroup, s.weights])),
    proxies: Object.fromEntries(groups.map((g) => [g.name, g.proxies])),
    publishedVersions: Object.fromEntries(groups.map((g) => [g.name, g.published])),
  };
}

async function describeGroup(snapshots: SnapshotStore, group: ProxyGroup): Promise<{ name: string; published: string | null; proxies: ServiceView['proxies'][string] }> {
  // HAProxy instances are read back, not versioned: they have nothing to acknowledge.
  if (group.kind !== 'envoy') return { name: group.name, published: null, proxies: group.proxies.map((p) => ({ proxy: p.name, acknowledgedVersion: null })) };
  const [head, acks] = await Promise.all([snapshots.head(group.name), snapshots.listAcks(group.name)]);
  return {
    name: group.name,
    published: head ? configVersion((typeUrl) => head.types[typeUrl]?.version) : null,
    proxies: group.proxies.map(({ nodeId }) => ({ proxy: nodeId, acknowledgedVersion: acknowledged(acks.filter((a) => a.nodeId === nodeId)) })),
  };
}

/** null until the node reported running some version. */
function acknowledged(acks: readonly ProxyAck[]): string | null {
  if (acks.every((a) => a.version === '')) return null;
  return configVersion((typeUrl) => acks.find((a) => a.typeUrl === typeUrl)?.version);
}
