import type { Endpoint, VersionTarget } from '../domain/mesh.js';

/**
 * Where a version's endpoints are found: the Kubernetes cluster behind a VersionTarget (EKS or GKE),
 * read through its EndpointSlices.
 */
export interface ClusterProvider {
  /**
   * The ready endpoints of Service `target.kubernetesService` in `target.namespace` of cluster
   * `target.cluster`, on `target.port`, each with its zone (null when the cluster does not say).
   *
   * `target.port` is the endpoint's own port (the pod's container port, as EndpointSlices list it),
   * not the Service's port: proxies connect to the endpoints directly.
   *
   * Idempotent read; the result is sorted by address then port, so the same cluster state always
   * gives the same array. An existing Service with no ready endpoint (scaled to zero, every pod
   * failing its readiness probe) gives `[]`: that is a fact about the cluster, not an error.
   *
   * Throws:
   * - NotFoundError: no configured cluster has this name in this cloud; the cloud has no such
   *   cluster (EKS/GKE 404); or the Service has no EndpointSlice at all (it does not exist, or has no
   *   selector), or its slices never list `target.port`.
   * - ClusterAuthError (not retryable): the cloud API or the cluster's API answered 401/403, or
   *   there were no credentials to sign with. Names the cluster.
   * - DependencyUnavailableError (retryable): 5xx, 429, timeouts or connection failures that
   *   outlasted a bounded number of attempts, or a cluster API whose TLS certificate does not match
   *   the CA the cloud reported (a rotated CA: the next call reads it again). Names the cluster.
   * - InternalError: an answer no retry will change (an unexpected status or body).
   */
  discoverEndpoints(target: VersionTarget): Promise<Endpoint[]>;
}
