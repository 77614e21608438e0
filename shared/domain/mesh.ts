/**
 * The mesh: services, their versions' endpoints in clusters of both clouds, the proxy groups that
 * route to them, and per proxy group the split of a service's traffic between its versions.
 * Pure data and pure rules (docs/architecture.md).
 */
import type { CloudName } from './cloud.js';
import { parseIp } from './endpoint-address.js';
import { ValidationError } from './errors.js';

/** One reachable instance of a version. `address` is an IP literal: proxyless gRPC accepts nothing else. */
export interface Endpoint {
  address: string;
  port: number;
  /** The availability zone (`us-east-1a`, `us-central1-b`); null when the cluster does not say. */
  zone: string | null;
}

/** Where a version runs in one cluster, as registered (docs/api.md `PUT /v1/services/{s}/versions/{v}`). */
export interface VersionTarget {
  cloud: CloudName;
  cluster: string;
  namespace: string;
  kubernetesService: string;
  port: number;
}

/** A version's endpoints in one cluster. */
export interface ClusterEndpoints {
  cloud: CloudName;
  cluster: string;
  /** The cluster's region (`us-east-1`, `us-central1`): localities are (cloud, region, zone). */
  region: string;
  endpoints: Endpoint[];
}

/** A version of a service as the registry holds it. */
export interface RegisteredVersion {
  service: string;
  version: string;
  clusters: ClusterEndpoints[];
  /**
   * The targets whose endpoints were discovered (not given): reconciliation discovers them again.
   * Clusters registered with explicit endpoints keep them until the next registration.
   * Absent on registrations stored before it existed: read as none.
   */
  discoveredFrom?: VersionTarget[];
  registeredAt: string;
  registeredBy: string;
  /** Optimistic-locking counter of the registration. */
  revision: number;
}

/** A cluster of crossfade.yaml as the mesh needs it: `region` is the AWS region or the GCP location. */
export interface ConfiguredCluster {
  name: string;
  cloud: CloudName;
  region: string;
}

export type ProxyKind = 'envoy' | 'haproxy';

/**
 * How the proxies of an Envoy group fetch their configuration (crossfade.yaml `proxyGroups[].xds`).
 * `rest`: Envoys polling the discovery function (`POST /v3/discovery:*`); the snapshot's EDS and
 * RDS sources point back at the function through the static cluster `clusterName`, polled every
 * `refreshDelaySeconds` (to twice that). `ads`: Envoy over gRPC ADS and proxyless gRPC clients,
 * through the long-running `crossfade xds-server`. A snapshot is built for one of the two: Envoy
 * refuses an `ads` source without an ADS stream, and gRPC accepts nothing but `ads`.
 */
export type XdsTransport =
  | { api: 'rest'; clusterName: string; refreshDelaySeconds: number; requestTimeoutSeconds: number }
  | { api: 'ads' };

/** What an Envoy group without `xds` gets: the serverless path. */
export const DEFAULT_XDS_TRANSPORT: Readonly<Extract<XdsTransport, { api: 'rest' }>> = { api: 'rest', clusterName: 'crossfade_xds', refreshDelaySeconds: 5, requestTimeoutSeconds: 5 };

/** Proxies that share one configuration (crossfade.yaml `proxyGroups`). */
export type ProxyGroup =
  /** `sidecarOf`: the group is the sidecars of that service and sees only its dependencies (domain/dependencies.ts). */
  | { name: string; kind: 'envoy'; cloud: CloudName; region: string; proxies: readonly { nodeId: string }[]; xds?: XdsTransport; sidecarOf?: string }
  | { name: string; kind: 'haproxy'; cloud: CloudName; region: string; proxies: readonly { name: string; runtimeApi: string }[] };

/**
 * Percent of a service's traffic per version, in one proxy group: whole numbers from 0 to 100
 * that sum to 100. `{ "v41": 90, "v42": 10 }`.
 */
export type Split = Readonly<Record<string, number>>;

/** The split a proxy group should serve for a service, versioned for optimistic locking. */
export interface GroupSplit {
  service: string;
  proxyGroup: string;
  weights: Split;
  revision: number;
  updatedAt: string;
  /**
   * The fencing token of the service lock under which a deployment last wrote this split
   * (ports/service-lock.ts). A write carrying a smaller token is refused: a run that lost the
   * service never moves its traffic again. Writers that are not deployments (registration,
   * deregistration) keep it as they found it.
   */
  fencingToken?: number;
}

/** Throws ValidationError (field `${field}.<version>` or `${field}`) unless `split` is a valid split. */
export function checkSplit(split: Split, field = 'weights'): void {
  const entries = Object.entries(split);
  if (entries.length === 0) throw new ValidationError(`${field} must name at least one version`, field, 'split-not-empty');
  for (const [version, percent] of entries) {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new ValidationError(`${field}.${version} must be a whole number from 0 to 100, got ${percent}`, `${field}.${version}`, 'percent');
    }
  }
  const total = entries.reduce((sum, [, percent]) => sum + percent, 0);
  if (total !== 100) throw new ValidationError(`${field} must sum to 100, got ${total}`, field, 'split-sums-to-100');
}

/** Throws ValidationError naming `field` unless the endpoint is an IP literal (no zone id) with a port from 1 to 65535. */
export function checkEndpoint(endpoint: Endpoint, field: string): void {
  if (parseIp(endpoint.address) === undefined) {
    throw new ValidationError(`${field}.address "${endpoint.address}" must be an IPv4 or IPv6 address`, `${field}.address`, 'ip-address');
  }
  if (!Number.isInteger(endpoint.port) || endpoint.port < 1 || endpoint.port > 65535) {
    throw new ValidationError(`${field}.port must be a whole number from 1 to 65535, got ${endpoint.port}`, `${field}.port`, 'port');
  }
}

/** Endpoints once each, by address then port: the same set always reads the same. */
export function normalizeEndpoints<T extends Endpoint>(endpoints: readonly T[]): T[] {
  const unique = new Map(endpoints.map((e) => [`${e.address}|${e.port}`, e]));
  return [...unique.values()].sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port);
}

/**
 * Why nothing can tell whether a group serves a split, or null when it can be asked: a group that
 * lists no proxies (no HAProxy Runtime API, no Envoy node id) is `unverified`, never "converged".
 */
export function unverifiedReason(group: ProxyGroup): string | null {
  if (group.proxies.length > 0) return null;
  return group.kind === 'envoy' ? `proxy group ${group.name} lists no Envoy node ids: its snapshot is published but no proxy is asked whether it serves it` : `proxy group ${group.name} lists no HAProxy instances: no proxy is programmed or asked`;
}

/** The split of a group where only `version` carries traffic (a new service, a finished rollback or promotion). */
export function allTo(version: string): Split {
  return { [version]: 100 };
}

/** The split with a new version entered at 0% (docs/api.md: "a new version enters the mesh at weight 0"). */
export function withVersionAtZero(split: Split, version: string): Split {
  return Object.hasOwn(split, version) ? split : { ...split, [version]: 0 };
}
