/** The SnapshotStore contract (shared/ports/snapshot-store.ts), on DynamoDB Local and the embedded store. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbSnapshotStore } from '../../shared/adapters/dynamodb/snapshot-store.js';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import type { RegisteredVersion } from '../../shared/domain/mesh.js';
import { buildSnapshot, XDS_PUSH_ORDER, XdsType, type GroupMesh, type Snapshot } from '../../shared/engine/envoy/snapshot.js';
import type { SnapshotHead, SnapshotStore } from '../../shared/ports/snapshot-store.js';
import { rejectionOf } from '../support/errors.js';
import { backendFactories, scanTable, type StoreBackend } from '../support/store-backends.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const GROUP: GroupMesh['group'] = { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] };

function registered(service: string, version: string, host: number): RegisteredVersion {
  const endpoints = [0, 1, 2].map((i) => ({ address: `10.${(host >> 8) & 255}.${host & 255}.${10 + i}`, port: 8080, zone: `us-east-1${'abc'[i]}` }));
  return { service, version, clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints }], registeredAt: '2026-01-01T00:00:00.000Z', registeredBy: 'test', revision: 1 };
}

/** `count` services of two versions each, every one at `canaryPercent` on v2. */
function meshSnapshot(count: number, canaryPercent: number, group = GROUP): Snapshot {
  const services = Array.from({ length: count }, (_, i) => {
    const service = `service-${String(i).padStart(5, '0')}`;
    return { service, versions: [registered(service, 'v1', 2 * i), registered(service, 'v2', 2 * i + 1)], split: { v1: 100 - canaryPercent, v2: canaryPercent } };
  });
  return buildSnapshot({ group, services }, { hash: sha256 });
}

const chunkItems = (items: Record<string, unknown>[]) => items.filter((item) => item['entity'] === 'xds-chunk');
/** An item's size as DynamoDB counts it (attribute names and strings in UTF-8, numbers up to 21 bytes, 3 + 1 per element for maps and lists). */
function itemBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return 21;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, v) => sum + 1 + itemBytes(v), 0);
  return 3 + Object.entries(value as Record<string, unknown>).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + itemBytes(v), 0);
}

describe.each(backendFactories)('SnapshotStore on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  let table: TableHandle;
  let store: SnapshotStore;
  beforeAll(async () => {
    backend = await startBackend();
    table = await backend.freshTable();
    store = createDynamoDbStores(table).snapshots;
  });
  afterAll(() => backend.stop());

  const large = meshSnapshot(2000, 10);
  let first: SnapshotHead;

  it('knows no HEAD for a group never published', async () => {
    expect(await store.head('envoy-nowhere')).toBeUndefined();
  });

  it('round-trips a snapshot larger than one item: every type whole and in order, every item under 350 KB', async () => {
    const published = await store.publish(large, undefined, '2026-01-01T00:00:00.000Z');
    expect(published).toMatchObject({ outcome: 'published', head: { group: GROUP.name, revision: 1, publishedAt: '2026-01-01T00:00:00.000Z' } });
    first = published.head;
    expect(await store.head(GROUP.name)).toEqual(first);
    for (const typeUrl of XDS_PUSH_ORDER) {
      expect(first.types[typeUrl]?.version).toBe(large.versions[typeUrl]);
      expect(await store.resources(first, typeUrl)).toEqual(large.resources[typeUrl]);
    }
    expect(first.types[XdsType.Endpoint]!.chunks).toBeGreaterThan(1);
    const items = await scanTable(table);
    expect(chunkItems(items)).toHaveLength(XDS_PUSH_ORDER.reduce((sum, t) => sum + first.types[t]!.chunks, 0));
    expect(Math.max(...items.map(itemBytes))).toBeLessThan(350_000);
    // The HEAD is what every poll reads: it must stay within one 4 KB read unit.
    expect(itemBytes(items.find((item) => item['entity'] === 'xds-head')!)).toBeLessThan(4096);
  });

  it('republishing the same content writes nothing at all', async () => {
    const before = await scanTable(table);
    const again = await store.publish(meshSnapshot(2000, 10), first, '2026-01-01T00:01:00.000Z');
    expect(again).toEqual({ outcome: 'unchanged', head: first });
    expect(await scanTable(table)).toEqual(before);
  });

  it('a changed split writes only its routes; content that comes back writes no chunk again', async () => {
    const chunksBefore = chunkItems(await scanTable(table)).length;
    const shifted = await store.publish(meshSnapshot(2000, 50), first, '2026-01-01T00:02:00.000Z');
    if (shifted.outcome !== 'published') throw new Error('expected a publish');
    expect(shifted.head.revision).toBe(2);
    expect(shifted.head.types[XdsType.Cluster]).toEqual(first.types[XdsType.Cluster]);
    expect(shifted.head.types[XdsType.Route]!.version).not.toBe(first.types[XdsType.Route]!.version);
    expect(shifted.chunksWritten).toBe(shifted.head.types[XdsType.Route]!.chunks);
    expect(chunkItems(await scanTable(table)).length).toBe(chunksBefore + shifted.chunksWritten);

    const rolledBack = await store.publish(large, shifted.head, '2026-01-01T00:03:00.000Z');
    expect(rolledBack).toMatchObject({ outcome: 'published', head: { revision: 3, types: first.types }, chunksWritten: 0 });
    expect(chunkItems(await scanTable(table)).length).toBe(chunksBefore + shifted.chunksWritten);
    expect(await store.resources(rolledBack.head, XdsType.Route)).toEqual(large.resources[XdsType.Route]);
  });

  it('a HEAD write over a HEAD that moved is a VersionConflictError, and leaves the HEAD as it was', async () => {
    const current = (await store.head(GROUP.name))!;
    const stale = await rejectionOf(store.publish(meshSnapshot(2000, 90), first, '2026-01-01T00:04:00.000Z'));
    expect(stale).toMatchObject({ name: 'VersionConflictError', retryable: true });
    expect(await store.publish(meshSnapshot(3, 0, { ...GROUP, name: 'envoy-gcp-usc1' }), undefined, '2026-01-01T00:04:00.000Z')).toMatchObject({ outcome: 'published', head: { revision: 1 } });
    const createdTwice = await rejectionOf(store.publish(meshSnapshot(4, 0, { ...GROUP, name: 'envoy-gcp-usc1' }), undefined, '2026-01-01T00:05:00.000Z'));
    expect(createdTwice).toMatchObject({ name: 'VersionConflictError' });
    expect(await store.head(GROUP.name)).toEqual(current);
  });

  it('a type the HEAD does not have is a NotFoundError', async () => {
    const head = (await store.head(GROUP.name))!;
    expect(await rejectionOf(store.resources(head, 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret'))).toMatchObject({ name: 'NotFoundError' });
  });

  it('a single resource larger than a chunk, with multi-byte characters, is cut and put back together exactly', async () => {
    const small = new DynamoDbSnapshotStore(table, { chunkBytes: 1000 });
    const name = 'résumé-✓-𝄞'.repeat(200);
    const snapshot = { group: 'envoy-tiny', resources: { [XdsType.Route]: [{ name, resource: { '@type': XdsType.Route, name } }] }, versions: { [XdsType.Route]: 'v1' } };
    const { head } = await small.publish(snapshot, undefined, '2026-01-01T00:00:00.000Z');
    expect(head.types[XdsType.Route]!.chunks).toBeGreaterThan(4);
    expect(await small.resources(head, XdsType.Route)).toEqual(snapshot.resources[XdsType.Route]);
  });

  describe('acknowledgements', () => {
    const report = (nodeId: string, typeUrl: string, version: string, at: string) => ({ group: 'envoy-acks', nodeId, typeUrl, version, at });

    it('records a version once: the same report again changes nothing, a new one is recorded', async () => {
      expect(await store.recordAck(report('envoy-1', XdsType.Cluster, '', '2026-01-01T00:00:00.000Z'))).toBe('recorded');
      expect(await store.recordAck(report('envoy-1', XdsType.Cluster, 'aaaa', '2026-01-01T00:00:05.000Z'))).toBe('recorded');
      const before = await scanTable(table);
      expect(await store.recordAck(report('envoy-1', XdsType.Cluster, 'aaaa', '2026-01-01T00:00:10.000Z'))).toBe('unchanged');
      expect(await scanTable(table)).toEqual(before);
      expect(await store.listAcks('envoy-acks')).toEqual([{ group: 'envoy-acks', nodeId: 'envoy-1', typeUrl: XdsType.Cluster, version: 'aaaa', at: '2026-01-01T00:00:05.000Z' }]);
    });

    it('records what a 200 handed a node beside what it runs, on the same terms', async () => {
      expect(await store.recordServed(report('envoy-1', XdsType.Cluster, 'bbbb', '2026-01-01T00:01:00.000Z'))).toBe('recorded');
      expect(await store.recordServed(report('envoy-1', XdsType.Cluster, 'bbbb', '2026-01-01T00:01:05.000Z'))).toBe('unchanged');
      expect(await store.recordServed(report('envoy-2', XdsType.Route, 'cccc', '2026-01-01T00:01:00.000Z'))).toBe('recorded');
      expect(await store.listAcks('envoy-acks')).toEqual([
        { group: 'envoy-acks', nodeId: 'envoy-1', typeUrl: XdsType.Cluster, version: 'aaaa', at: '2026-01-01T00:00:05.000Z', served: { version: 'bbbb', at: '2026-01-01T00:01:00.000Z' } },
        { group: 'envoy-acks', nodeId: 'envoy-2', typeUrl: XdsType.Route, version: '', at: '2026-01-01T00:01:00.000Z', served: { version: 'cccc', at: '2026-01-01T00:01:00.000Z' } },
      ]);
      expect(await store.recordAck(report('envoy-2', XdsType.Route, '', '2026-01-01T00:01:06.000Z'))).toBe('recorded');
    });

    it('lists one group only, by node then type', async () => {
      await store.recordAck({ ...report('envoy-0', XdsType.Route, 'x', '2026-01-01T00:00:00.000Z'), group: 'envoy-other' });
      await store.recordAck(report('envoy-0', XdsType.Route, 'r1', '2026-01-01T00:00:00.000Z'));
      await store.recordAck(report('envoy-0', XdsType.Endpoint, 'e1', '2026-01-01T00:00:00.000Z'));
      const acks = await store.listAcks('envoy-acks');
      expect(acks.map((a) => [a.nodeId, a.typeUrl.slice(a.typeUrl.lastIndexOf('.') + 1)])).toEqual([
        ['envoy-0', 'ClusterLoadAssignment'],
        ['envoy-0', 'RouteConfiguration'],
        ['envoy-1', 'Cluster'],
        ['envoy-2', 'RouteConfiguration'],
      ]);
      expect(await store.listAcks('envoy-none')).toEqual([]);
    });
  });
});
