/**
 * Endpoint discovery through EKS, GKE and the clusters' Kubernetes APIs, for the entry points that
 * register versions. Kept apart from deps.ts so the other Lambda bundles carry no EKS or GKE SDK.
 */
import { createCloudClusterProvider } from '../adapters/clusters/cluster-provider.js';
import { systemClock } from '../adapters/system.js';
import type { ClusterConfig } from '../domain/config.js';
import type { ClusterProvider } from '../ports/cluster-provider.js';

export function cloudDiscovery(clusters: readonly ClusterConfig[]): ClusterProvider {
  return createCloudClusterProvider({ clusters, clock: systemClock });
}
