/**
 * The synthetic mesh every dataplane scenario measures: N services, 2 versions each, every version
 * with 3 endpoints (zones a, b, c) in an EKS cluster and 3 in a GKE cluster, and 4 Envoy proxy
 * groups, two per cloud in different regions. Deterministic: the same N always gives the same mesh,
 * so two runs of the bench build byte-identical snapshots.
 */
import type { CloudName } from '../../shared/domain/cloud.js';
import type { ConfiguredCluster, ProxyGroup, RegisteredVersion, Split } from '../../shared/domain/mesh.js';
import type { GroupMesh } from '../../shared/engine/envoy/snapshot.js';

export type EnvoyGroup = Extract<ProxyGroup, { kind: 'envoy' }>;

export const MESH_CLUSTERS: readonly ConfiguredCluster[] = [
  { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' },
  { name: 'gke-usc1', cloud: 'gcp', region: 'us-central1' },
];

/** The same clusters as crossfade.yaml writes them (the GCP one with project and location). */
export const CONFIG_CLUSTERS = [
  { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' },
  { name: 'gke-usc1', cloud: 'gcp', project: 'crossfade-bench', location: 'us-central1' },
] as const;

const envoyGroup = (cloud: CloudName, region: string, short: string): EnvoyGroup => ({
  name: `envoy-${cloud}-${short}`,
  kind: 'envoy',
  cloud,
  region,
  proxies: [{ nodeId: `envoy-${cloud}-${short}-0` }],
});

/** Two regions per cloud; every group sees both clouds' endpoints and prefers its own cloud's. */
export const ENVOY_GROUPS: readonly EnvoyGroup[] = [
  envoyGroup('aws', 'us-east-1', 'use1'),
  envoyGroup('aws', 'us-west-2', 'usw2'),
  envoyGroup('gcp', 'us-central1', 'usc1'),
  envoyGroup('gcp', 'europe-west1', 'euw1'),
];

export const VERSIONS = ['v1', 'v2'] as const;
export const ENDPOINTS_PER_CLUSTER = 3;
const ZONE_SUFFIXES = ['a', 'b', 'c'] as const;

/** A canary in progress: the AWS groups further along than the GCP ones (cloud-by-cloud waves). */
export function splitFor(group: ProxyGroup): Split {
  return group.cloud === 'aws' ? { v1: 90, v2: 10 } : { v1: 95, v2: 5 };
}

/** `svc-00042`: fixed width, so name order is index order. */
export function serviceName(index: number): string {
  return `svc-${String(index).padStart(5, '0')}`;
}

/** A distinct 10.x.y.z per endpoint of the whole mesh (up to 16 M of them). */
function address(ordinal: number): string {
  return `10.${(ordinal >> 16) & 255}.${(ordinal >> 8) & 255}.${ordinal & 255}`;
}

const REGISTERED_AT = '2026-01-01T00:00:00.000Z';

/** The registration of one version, with explicit endpoints in both clusters (no discovery: reconciliation re-reads nothing). */
export function registeredVersion(serviceIndex: number, versionIndex: number): RegisteredVersion {
  const version = VERSIONS[versionIndex]!;
  return {
    service: serviceName(serviceIndex),
    version,
    clusters: MESH_CLUSTERS.map((cluster, clusterIndex) => ({
      cloud: cluster.cloud,
      cluster: cluster.name,
      region: cluster.region,
      endpoints: ZONE_SUFFIXES.slice(0, ENDPOINTS_PER_CLUSTER).map((zone, k) => ({
        address: address(((serviceIndex * VERSIONS.length + versionIndex) * MESH_CLUSTERS.length + clusterIndex) * ENDPOINTS_PER_CLUSTER + k),
        port: 8080,
        zone: `${cluster.region}${zone}`,
      })),
    })),
    registeredAt: REGISTERED_AT,
    registeredBy: 'bench',
    revision: 1,
  };
}

/**
 * Every group's view of a mesh of `services` services: what buildSnapshot takes, one per group. The
 * registrations are shared between the groups (read once, as a publisher would), only splits differ.
 */
export function groupMeshes(groups: readonly EnvoyGroup[], services: number): GroupMesh[] {
  const versions = Array.from({ length: services }, (_, i) => VERSIONS.map((_, v) => registeredVersion(i, v)));
  return groups.map((group) => ({
    group,
    services: versions.map((registered, i) => ({ service: serviceName(i), versions: registered, split: splitFor(group) })),
  }));
}
