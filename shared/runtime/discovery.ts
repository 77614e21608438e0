/**
 * Endpoint discovery for the entry points that register versions (the services and reconcile
 * functions, GCP, the local stack). The EKS client, google-auth-library and the Kubernetes client
 * (runtime/discovery-clients.ts) are imported on the first lookup: a cold start that only reads,
 * or registers endpoints given explicitly, never loads them, and no other function's bundle holds them.
 */
import type { AwsCredentialsProvider } from '../adapters/clusters/eks.js';
import type { ClusterConfig } from '../domain/config.js';
import type { ClusterProvider } from '../ports/cluster-provider.js';
import { loadedOnFirstUse } from '../adapters/first-use-import.js';

export function cloudDiscovery(clusters: readonly ClusterConfig[], env: Readonly<Record<string, string | undefined>>, awsCredentials?: AwsCredentialsProvider): ClusterProvider {
  const provider = loadedOnFirstUse(async () => (await import('./discovery-clients.js')).cloudClusterProvider(clusters, env, awsCredentials));
  return { discoverEndpoints: async (target) => (await provider()).discoverEndpoints(target) };
}
