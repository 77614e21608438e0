/**
 * The ClusterProvider: the configured cluster's cloud says how to reach its API (EKS or GKE),
 * then its EndpointSlices say where the version runs.
 */
import type { ClusterConfig } from '../../domain/config.js';
import { ClusterAuthError, DependencyUnavailableError, NotFoundError } from '../../domain/errors.js';
import type { Endpoint, VersionTarget } from '../../domain/mesh.js';
import type { Clock } from '../../ports/clock.js';
import type { ClusterProvider } from '../../ports/cluster-provider.js';
import { createEksAccess, type AwsClusterConfig, type EksAccessSettings } from './eks.js';
import { createGkeAccess, type GcpClusterConfig, type GkeAccessSettings } from './gke.js';
import { createKubernetesClient, type ClusterAccess, type ClusterAccessSource, type KubernetesClient, type KubernetesClientSettings } from './kubernetes.js';

export interface ClusterProviderParts {
  clusters: readonly ClusterConfig[];
  eks: ClusterAccessSource<AwsClusterConfig>;
  gke: ClusterAccessSource<GcpClusterConfig>;
  kubernetes: KubernetesClient;
}

export function createClusterProvider(parts: ClusterProviderParts): ClusterProvider {
  const byName = new Map(parts.clusters.map((cluster) => [cluster.name, cluster]));

  return {
    async discoverEndpoints(target: VersionTarget): Promise<Endpoint[]> {
      const cluster = byName.get(target.cluster);
      // The use case rejects unknown clusters as bad input (`targets[i].cluster`) before calling;
      // reaching here with one means config and caller disagree, so say which.
      if (cluster === undefined) throw new NotFoundError(`cluster ${target.cluster} is not configured (crossfade.yaml clusters[].name)`);
      if (cluster.cloud !== target.cloud) throw new NotFoundError(`cluster ${target.cluster} is configured in ${cluster.cloud}, not ${target.cloud}`);
      const source = sourceFor(cluster);
      const access = await source.access();
      try {
        return await parts.kubernetes.listReadyEndpoints(access, target.namespace, target.kubernetesService, target.port);
      } catch (error) {
        // What was cached may be the cause (a rotated CA, a revoked token): ask the cloud next time.
        if (error instanceof ClusterAuthError || error instanceof DependencyUnavailableError) source.forget();
        throw error;
      }
    },
  };

  function sourceFor(cluster: ClusterConfig): { access(): Promise<ClusterAccess>; forget(): void } {
    switch (cluster.cloud) {
      case 'aws':
        return { access: () => parts.eks.access(cluster), forget: () => parts.eks.forget(cluster.name) };
      case 'gcp':
        return { access: () => parts.gke.access(cluster), forget: () => parts.gke.forget(cluster.name) };
      default: {
        const unknown: never = cluster;
        throw new NotFoundError(`cluster ${(unknown as ClusterConfig).name} is in a cloud crossfade does not know`);
      }
    }
  }
}

export interface CloudClusterProviderSettings {
  clusters: readonly ClusterConfig[];
  clock: Clock;
  eks?: Omit<EksAccessSettings, 'clock'>;
  gke?: Omit<GkeAccessSettings, 'clock'>;
  kubernetes?: KubernetesClientSettings;
}

/** The real thing, built once per cold start by an entry point; every client inside is lazy. */
export function createCloudClusterProvider(settings: CloudClusterProviderSettings): ClusterProvider & { close(): Promise<void> } {
  const eks = createEksAccess({ ...settings.eks, clock: settings.clock });
  const gke = createGkeAccess({ ...settings.gke, clock: settings.clock });
  const kubernetes = createKubernetesClient(settings.kubernetes);
  const provider = createClusterProvider({ clusters: settings.clusters, eks, gke, kubernetes });
  return {
    discoverEndpoints: (target) => provider.discoverEndpoints(target),
    async close() {
      eks.close();
      kubernetes.close();
      await gke.close();
    },
  };
}
