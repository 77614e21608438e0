/** In-memory fakes of the mesh ports, honouring their contracts, for unit tests only. */
import { VersionConflictError } from '../../shared/domain/errors.js';
import type { Endpoint, GroupSplit, ProxyGroup, RegisteredVersion, VersionTarget } from '../../shared/domain/mesh.js';
import type { ClusterProvider } from '../../shared/ports/cluster-provider.js';
import type { MeshRegistry, ServiceState } from '../../shared/ports/mesh-registry.js';
import { FakeStore } from './fake-store.js';

export class InMemoryMeshRegistry extends FakeStore<keyof MeshRegistry> implements MeshRegistry {
  private readonly versions = new Map<string, RegisteredVersion>();
  private readonly splits = new Map<string, GroupSplit>();

  async getService(service: string): Promise<ServiceState | undefined> {
    this.read('getService');
    const versions = [...this.versions.values()].filter((v) => v.service === service);
    const splits = [...this.splits.values()].filter((s) => s.service === service);
    if (versions.length === 0 && splits.length === 0) return undefined;
    return structuredClone({ service, versions, splits });
  }

  async putVersion(version: RegisteredVersion): Promise<void> {
    this.attemptWrite('putVersion');
    const key = `${version.service}@${version.version}`;
    if ((this.versions.get(key)?.revision ?? 0) !== version.revision - 1) throw new VersionConflictError(`registration ${key}`, version.revision - 1);
    this.versions.set(key, structuredClone(version));
    this.writes++;
  }

  async deleteVersion(service: string, version: string, expectedRevision: number): Promise<'deleted' | 'absent'> {
    this.attemptWrite('deleteVersion');
    const key = `${service}@${version}`;
    const current = this.versions.get(key);
    if (!current) return 'absent';
    if (current.revision !== expectedRevision) throw new VersionConflictError(`registration ${key}`, expectedRevision);
    this.versions.delete(key);
    this.writes++;
    return 'deleted';
  }

  async putSplit(split: GroupSplit): Promise<void> {
    this.attemptWrite('putSplit');
    const key = `${split.service}/${split.proxyGroup}`;
    if ((this.splits.get(key)?.revision ?? 0) !== split.revision - 1) throw new VersionConflictError(`split ${key}`, split.revision - 1);
    this.splits.set(key, structuredClone(split));
    this.writes++;
  }

  async listServices(): Promise<string[]> {
    this.read('listServices');
    return [...new Set([...this.versions.values()].map((v) => v.service))].sort();
  }
}

/** Endpoints per `cluster/namespace/kubernetesService`; discovering anything else finds none. */
export class StaticClusterProvider implements ClusterProvider {
  readonly calls: VersionTarget[] = [];
  constructor(private readonly endpoints: Record<string, Endpoint[]> = {}) {}

  async discoverEndpoints(target: VersionTarget): Promise<Endpoint[]> {
    this.calls.push(target);
    return structuredClone(this.endpoints[`${target.cluster}/${target.namespace}/${target.kubernetesService}`] ?? []);
  }
}

export const TEST_PROXY_GROUPS: readonly ProxyGroup[] = [
  { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }] },
  { name: 'haproxy-gcp-usc1', kind: 'haproxy', cloud: 'gcp', region: 'us-central1', proxies: [{ name: 'edge-1', runtimeApi: '127.0.0.1:9999' }] },
];
