/** A service as the mesh sees it (API.md `GET /v1/services/{service}`). */
import { NotFoundError } from '../domain/errors.js';
import type { ClusterEndpoints, Split } from '../domain/mesh.js';
import type { MeshDeps } from './mesh-deps.js';

export interface ServiceView {
  service: string;
  versions: { version: string; registeredAt: string; registeredBy: string; clusters: ClusterEndpoints[] }[];
  /** Per proxy group, the split it should serve. */
  weights: Record<string, Split>;
  /** Per proxy group, its proxies and the configuration version each acknowledged (null: none yet). */
  proxies: Record<string, { proxy: string; acknowledgedVersion: string | null }[]>;
}

export async function describeService(deps: Pick<MeshDeps, 'registry' | 'proxyGroups'>, service: string): Promise<ServiceView> {
  const state = await deps.registry.getService(service);
  if (!state) throw new NotFoundError(`service ${service} has no registered version`);
  return {
    service,
    versions: state.versions
      .map(({ version, registeredAt, registeredBy, clusters }) => ({ version, registeredAt, registeredBy, clusters }))
      .sort((a, b) => a.registeredAt.localeCompare(b.registeredAt)),
    weights: Object.fromEntries(state.splits.map((s) => [s.proxyGroup, s.weights])),
    // Acknowledgements arrive with the proxies' discovery endpoints; until then none is known.
    proxies: Object.fromEntries(
      deps.proxyGroups.map((group) => [
        group.name,
        group.kind === 'envoy'
          ? group.proxies.map((p) => ({ proxy: p.nodeId, acknowledgedVersion: null }))
          : group.proxies.map((p) => ({ proxy: p.name, acknowledgedVersion: null })),
      ]),
    ),
  };
}
