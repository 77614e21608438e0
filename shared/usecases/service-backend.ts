/** What a proxy group routes a service to: every registered version's endpoints, all clusters together. */
import type { ServiceState } from '../ports/mesh-registry.js';
import type { VersionEndpoints } from '../ports/traffic-router.js';

export function serviceBackend(state: ServiceState): VersionEndpoints[] {
  return state.versions.map((v) => ({ version: v.version, endpoints: v.clusters.flatMap((c) => c.endpoints) }));
}
