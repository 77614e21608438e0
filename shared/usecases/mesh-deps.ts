/** What the mesh use cases are given: ports, and the clusters and proxy groups of crossfade.yaml. */
import type { Cidr } from '../domain/endpoint-address.js';
import type { ConfiguredCluster, ProxyGroup } from '../domain/mesh.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ClusterProvider } from '../ports/cluster-provider.js';
import type { Logger } from '../ports/logger.js';
import type { MeshRegistry } from '../ports/mesh-registry.js';
import type { ServiceLockStore } from '../ports/service-lock.js';

export interface MeshDeps {
  registry: MeshRegistry;
  clusterProvider: ClusterProvider;
  audit: AuditLog;
  locks: ServiceLockStore;
  clock: Clock;
  logger: Logger;
  clusters: readonly ConfiguredCluster[];
  proxyGroups: readonly ProxyGroup[];
  /**
   * crossfade.yaml `mesh.allowedEndpointCidrs`: networks whose endpoints are registered although
   * loopback, link-local, unspecified, multicast or metadata (domain/endpoint-address.ts). None when absent.
   */
  allowedEndpointCidrs?: readonly Cidr[];
}
