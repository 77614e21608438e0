/**
 * Endpoint discovery through EKS, GKE and the clusters' Kubernetes APIs, built on the first lookup
 * (runtime/discovery.ts imports this module then, so its SDKs are not loaded at cold start).
 * Which credentials it may use depends on where it runs (adapters/clusters/credentials.ts): a
 * cloud's metadata server is asked only on that cloud's functions, never by `npm start`.
 */
import { awsCredentialsFor, googleAuthFor, hostingOf } from '../adapters/clusters/credentials.js';
import { createCloudClusterProvider } from '../adapters/clusters/cluster-provider.js';
import { CLOUD_PLATFORM_SCOPE } from '../adapters/clusters/gke.js';
import { systemClock } from '../adapters/system.js';
import type { ClusterConfig } from '../domain/config.js';
import type { ClusterProvider } from '../ports/cluster-provider.js';
import type { AwsCredentialsProvider } from '../adapters/clusters/eks.js';

export function cloudClusterProvider(clusters: readonly ClusterConfig[], env: Readonly<Record<string, string | undefined>>, awsCredentials?: AwsCredentialsProvider): ClusterProvider {
  const hosting = hostingOf(env);
  // The entry point's own credentials when it has them (GCP: keyless or its key), as for its other AWS calls.
  const credentials = awsCredentials ?? awsCredentialsFor(env, hosting);
  const auth = googleAuthFor(env, hosting, [CLOUD_PLATFORM_SCOPE]);
  return createCloudClusterProvider({ clusters, clock: systemClock, eks: credentials ? { credentials } : {}, gke: auth ? { auth } : {} });
}
