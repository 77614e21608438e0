/** In-memory fakes of the mesh ports, honouring their contracts, for unit tests only. */
import { VersionConflictError } from '../../shared/domain/errors.js';
import type { DeclaredDependencies } from '../../shared/domain/dependencies.js';
import type { Endpoint, GroupSplit, ProxyGroup, RegisteredVersion, VersionTarget } from '../../shared/domain/mesh.js';
import type { ClusterProvider } from '../../shared/ports/cluster-provider.js';
import type { MeshRegistry, ServiceState } from '../../shared/ports/mesh-registry.js';
import type { AckReport, ProxyAck, PublishOutcome, SnapshotHead, SnapshotStore, SnapshotToPublish, StoredResource } from '../../shared/ports/snapshot-store.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { assembleType, GROUP_PART, versionsOf, type SnapshotPart } from '../../shared/domain/snapshot-parts.js';
import type { PartsChange, PartsHead, PartsPublishOutcome, PartStore } from '../../shared/ports/part-store.js';
import { FakeStore } from './fake-store.js';

export class InMemoryMeshRegistry extends FakeStore<keyof MeshRegistry> implements MeshRegistry {
  private readonly versions = new Map<string, RegisteredVersion>();
  private readonly splits = new Map<string, GroupSplit>();
  private readonly dependencies = new Map<string, DeclaredDependencies>();

  /** A registry holding `versions` already (no writes counted). */
  static with(versions: readonly RegisteredVersion[]): InMemoryMeshRegistry {
    const registry = new InMemoryMeshRegistry();
    for (const version of versions) registry.versions.set(`${version.service}@${version.version}`, structuredClone(version));
    return registry;
  }

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
    const stored = this.splits.get(key);
    if ((stored?.revision ?? 0) !== split.revision - 1) throw new VersionConflictError(`split ${key}`, split.revision - 1);
    // Fenced as the DynamoDB registry is: never an older writer's token (or none) over a newer one.
    if (stored?.fencingToken !== undefined && (split.fencingToken ?? -1) < stored.fencingToken) throw new VersionConflictError(`split ${key} (fenced)`, split.revision - 1);
    this.splits.set(key, structuredClone(split));
    this.writes++;
  }

  async listServices(): Promise<string[]> {
    this.read('listServices');
    return [...new Set([...this.versions.values()].map((v) => v.service))].sort();
  }

  async listServicesAfter(after: string | undefined, limit: number): Promise<{ services: string[]; more: boolean }> {
    this.read('listServicesAfter');
    const rest = [...new Set([...this.versions.values()].map((v) => v.service))].sort().filter((s) => after === undefined || s > after);
    return { services: rest.slice(0, limit), more: rest.length > limit };
  }

  async getDependencies(service: string): Promise<DeclaredDependencies | undefined> {
    this.read('getDependencies');
    const declared = this.dependencies.get(service);
    return declared && structuredClone(declared);
  }

  async putDependencies(declared: DeclaredDependencies): Promise<void> {
    this.attemptWrite('putDependencies');
    if ((this.dependencies.get(declared.service)?.revision ?? 0) !== declared.revision - 1) throw new VersionConflictError(`dependencies of ${declared.service}`, declared.revision - 1);
    this.dependencies.set(declared.service, structuredClone(declared));
    this.writes++;
  }
}

interface AckRecord {
  group: string;
  nodeId: string;
  typeUrl: string;
  reported?: { version: string; at: string };
  served?: { version: string; at: string };
}

/**
 * Snapshots kept whole per group and type version (the chunking is the adapter's business), HEADs
 * guarded by revision, acknowledgements written only when they differ; `reads` counts every read
 * call, so a test can say how many a poll made.
 */
export class InMemorySnapshotStore extends FakeStore<keyof SnapshotStore> implements SnapshotStore {
  private readonly heads = new Map<string, SnapshotHead>();
  private readonly typeResources = new Map<string, StoredResource[]>();
  private readonly acks = new Map<string, AckRecord>();
  reads = 0;

  async head(group: string): Promise<SnapshotHead | undefined> {
    this.countRead('head');
    const head = this.heads.get(group);
    return head && structuredClone(head);
  }

  async publish(snapshot: SnapshotToPublish, basedOn: SnapshotHead | undefined, at: string): Promise<PublishOutcome> {
    this.attemptWrite('publish');
    const types: SnapshotHead['types'] = Object.fromEntries(
      Object.keys(snapshot.resources).map((typeUrl) => [typeUrl, { version: snapshot.versions[typeUrl]!, chunks: 1, bytes: JSON.stringify(snapshot.resources[typeUrl]).length }]),
    );
    const unchanged = basedOn && Object.keys(types).length === Object.keys(basedOn.types).length && Object.entries(types).every(([t, v]) => basedOn.types[t]?.version === v.version);
    if (basedOn && unchanged) return { outcome: 'unchanged', head: structuredClone(basedOn) };
    let chunksWritten = 0;
    for (const [typeUrl, { version }] of Object.entries(types)) {
      const key = `${snapshot.group}|${typeUrl}|${version}`;
      if (this.typeResources.has(key)) continue;
      this.typeResources.set(key, structuredClone([...snapshot.resources[typeUrl]!]));
      chunksWritten++;
    }
    const expected = basedOn?.revision ?? 0;
    if ((this.heads.get(snapshot.group)?.revision ?? 0) !== expected) throw new VersionConflictError(`snapshot head of proxy group ${snapshot.group}`, expected);
    const head: SnapshotHead = { group: snapshot.group, revision: expected + 1, publishedAt: at, types };
    this.heads.set(snapshot.group, head);
    this.writes++;
    return { outcome: 'published', head: structuredClone(head), chunksWritten };
  }

  async resources(head: SnapshotHead, typeUrl: string): Promise<StoredResource[]> {
    this.countRead('resources');
    const version = head.types[typeUrl]?.version;
    if (version === undefined) throw new NotFoundError(`the snapshot of proxy group ${head.group} has no ${typeUrl}`);
    return structuredClone(this.typeResources.get(`${head.group}|${typeUrl}|${version}`)!);
  }

  async recordAck(report: AckReport): Promise<'recorded' | 'unchanged'> {
    this.attemptWrite('recordAck');
    return this.record(report, 'reported');
  }

  async recordServed(report: AckReport): Promise<'recorded' | 'unchanged'> {
    this.attemptWrite('recordServed');
    return this.record(report, 'served');
  }

  async listAcks(group: string): Promise<ProxyAck[]> {
    this.countRead('listAcks');
    return [...this.acks.values()]
      .filter((a) => a.group === group)
      .sort((a, b) => (a.nodeId + a.typeUrl < b.nodeId + b.typeUrl ? -1 : 1))
      .map(({ reported, served, ...who }) => ({ ...who, version: reported?.version ?? '', at: reported?.at ?? served?.at ?? '', ...(served ? { served: { ...served } } : {}) }));
  }

  private record(report: AckReport, field: 'reported' | 'served'): 'recorded' | 'unchanged' {
    const key = `${report.group}|${report.nodeId}|${report.typeUrl}`;
    const current = this.acks.get(key) ?? { group: report.group, nodeId: report.nodeId, typeUrl: report.typeUrl };
    if (current[field]?.version === report.version) return 'unchanged';
    this.acks.set(key, { ...current, [field]: { version: report.version, at: report.at } });
    this.writes++;
    return 'recorded';
  }

  private countRead(method: keyof SnapshotStore): void {
    this.read(method);
    this.reads++;
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

/**
 * PartStore in memory: a HEAD per group over immutable maps of service → part (each publish stores
 * a new map, so a HEAD read earlier keeps reading its own parts), guarded by revision; versions are
 * the XOR of the parts', as the port says.
 */
export class InMemoryPartStore extends FakeStore<keyof PartStore> implements PartStore {
  private readonly heads = new Map<string, PartsHead>();
  private readonly partsOf = new Map<string, ReadonlyMap<string, SnapshotPart>>();
  reads = 0;

  async head(group: string): Promise<PartsHead | undefined> {
    this.countRead('head');
    const head = this.heads.get(group);
    return head && structuredClone(head);
  }

  async parts(head: PartsHead, services: readonly string[]): Promise<Map<string, SnapshotPart>> {
    this.countRead('parts');
    const all = this.stored(head);
    return new Map(services.flatMap((s) => (all.has(s) ? [[s, structuredClone(all.get(s)!)] as [string, SnapshotPart]] : [])));
  }

  async manifest(head: PartsHead): Promise<Map<string, string>> {
    this.countRead('manifest');
    return new Map([...this.stored(head)].filter(([s]) => s !== GROUP_PART).map(([s, p]) => [s, p.key]));
  }

  async allParts(head: PartsHead): Promise<SnapshotPart[]> {
    this.countRead('allParts');
    return structuredClone([...this.stored(head).values()]);
  }

  async resources(head: PartsHead, typeUrl: string): Promise<StoredResource[]> {
    this.countRead('resources');
    if (head.versions[typeUrl] === undefined) throw new NotFoundError(`the snapshot of proxy group ${head.group} has no ${typeUrl}`);
    return structuredClone(assembleType([...this.stored(head).values()], typeUrl));
  }

  async publish(group: string, change: PartsChange, basedOn: PartsHead | undefined, at: string): Promise<PartsPublishOutcome> {
    this.attemptWrite('publish');
    const next = new Map(basedOn ? this.stored(basedOn) : []);
    let partsWritten = 0;
    for (const part of [change.groupPart, ...change.put]) {
      if (next.get(part.service)?.key === part.key) continue;
      next.set(part.service, structuredClone(part));
      partsWritten++;
    }
    const removed = change.remove.filter((s) => next.delete(s)).length;
    if (basedOn && partsWritten === 0 && removed === 0) return { outcome: 'unchanged', head: structuredClone(basedOn) };
    const expected = basedOn?.revision ?? 0;
    if ((this.heads.get(group)?.revision ?? 0) !== expected) throw new VersionConflictError(`parts head of proxy group ${group}`, expected);
    const head: PartsHead = { group, revision: expected + 1, publishedAt: at, versions: versionsOf(next.values(), Object.keys(change.groupPart.hashes)) };
    this.heads.set(group, head);
    this.partsOf.set(`${group}|${head.revision}`, next);
    this.writes++;
    return { outcome: 'published', head: structuredClone(head), partsWritten };
  }

  /** A HEAD with these versions and no parts: for readers that look at versions only (verification). */
  seedHead(group: string, versions: Record<string, string>, at: string): void {
    const revision = (this.heads.get(group)?.revision ?? 0) + 1;
    this.heads.set(group, { group, revision, publishedAt: at, versions: { ...versions } });
  }

  private stored(head: PartsHead): ReadonlyMap<string, SnapshotPart> {
    return this.partsOf.get(`${head.group}|${head.revision}`) ?? new Map();
  }

  private countRead(method: keyof PartStore): void {
    this.read(method);
    this.reads++;
  }
}
