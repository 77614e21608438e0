/**
 * Superseded snapshot chunks expire (shared/adapters/dynamodb/snapshot-store.ts): a publish marks
 * the chunks of the content it replaced with the table's TTL, never those of content a HEAD names
 * again, and a mark that failed is made by a later publish. On DynamoDB Local and the embedded store.
 */
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbSnapshotStore } from '../../shared/adapters/dynamodb/snapshot-store.js';
import { keys, TTL_ATTRIBUTE } from '../../shared/adapters/dynamodb/table.js';
import { XdsType } from '../../shared/engine/envoy/snapshot.js';
import type { SnapshotHead, SnapshotToPublish, StoredResource } from '../../shared/ports/snapshot-store.js';
import { CapturingLogger } from '../support/fakes.js';
import { backendFactories, scanTable, type StoreBackend } from '../support/store-backends.js';

const GRACE_SECONDS = 600;
const CHUNK_BYTES = 1000;
const TYPES = [XdsType.Cluster, XdsType.Endpoint, XdsType.Route] as const;
type Type = (typeof TYPES)[number];

/** Per type a label: the label makes the content (several chunks of it) and, unless given, the version. */
function snapshot(group: string, labels: Record<Type, string>, versions: Partial<Record<Type, string>> = {}): SnapshotToPublish {
  const resources = (type: Type): StoredResource[] =>
    Array.from({ length: 6 }, (_, i) => ({ name: `${labels[type]}-${i}`, resource: { '@type': type, name: `${labels[type]}-${i}`, padding: `${labels[type]}:`.repeat(60) } }));
  return {
    group,
    resources: Object.fromEntries(TYPES.map((t) => [t, resources(t)])),
    versions: Object.fromEntries(TYPES.map((t) => [t, versions[t] ?? `v-${labels[t]}`])),
  };
}

const A = { [XdsType.Cluster]: 'c1', [XdsType.Endpoint]: 'e1', [XdsType.Route]: 'r1' };
const B = { [XdsType.Cluster]: 'c1', [XdsType.Endpoint]: 'e2', [XdsType.Route]: 'r2' };
const C = { [XdsType.Cluster]: 'c3', [XdsType.Endpoint]: 'e3', [XdsType.Route]: 'r3' };

const messageName = (type: string): string => type.slice(type.lastIndexOf('.') + 1);
const contentKeyOf = (head: SnapshotHead, type: Type): string => (head.types[type] as unknown as { contentKey: string }).contentKey;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The items of the chunks that hold `type` of `head`, by index. */
function chunkItemsOf(items: Record<string, unknown>[], head: SnapshotHead, type: Type): Record<string, unknown>[] {
  const { pk } = keys.snapshotChunk(head.group, messageName(type), contentKeyOf(head, type), 0);
  return items.filter((item) => item['pk'] === pk).sort((a, b) => String(a['sk']).localeCompare(String(b['sk'])));
}

/** Every chunk's expiry (undefined: none) of `type` of `head`; fails when the chunks are not all there. */
function expiries(items: Record<string, unknown>[], head: SnapshotHead, type: Type): (number | undefined)[] {
  const chunks = chunkItemsOf(items, head, type);
  expect(chunks).toHaveLength(head.types[type]!.chunks);
  return chunks.map((item) => item[TTL_ATTRIBUTE] as number | undefined);
}

/** The same table, but every UpdateItem that would set a chunk's expiry fails as throttled. */
function failingMarks(table: TableHandle): TableHandle {
  const documents = new Proxy(table.documents, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return (command: unknown) => {
        const input = command instanceof UpdateCommand ? command.input : undefined;
        if (input && String(input.Key?.['sk']).startsWith('CHUNK#') && Object.values(input.ExpressionAttributeNames ?? {}).includes(TTL_ATTRIBUTE) && input.UpdateExpression?.startsWith('SET #ttl')) {
          return Promise.reject(Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException' }));
        }
        return target.send(command as UpdateCommand);
      };
    },
  });
  return { tableName: table.tableName, documents };
}

describe.each(backendFactories)('superseded snapshot chunks on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  let table: TableHandle;
  let logger: CapturingLogger;
  let store: DynamoDbSnapshotStore;
  /** The same store over a table where marking chunks fails. */
  let failing: DynamoDbSnapshotStore;
  beforeAll(async () => {
    backend = await startBackend();
    table = await backend.freshTable();
    logger = new CapturingLogger();
    store = new DynamoDbSnapshotStore(table, { chunkBytes: CHUNK_BYTES, gcGraceSeconds: GRACE_SECONDS, logger });
    failing = new DynamoDbSnapshotStore(failingMarks(table), { chunkBytes: CHUNK_BYTES, gcGraceSeconds: GRACE_SECONDS, logger });
  });
  afterAll(() => backend.stop());

  /** Publishes `labels` over `basedOn` (undefined: the group's first) and resolves with the new HEAD. */
  async function published(target: DynamoDbSnapshotStore, group: string, labels: Record<Type, string>, basedOn: SnapshotHead | undefined, versions?: Partial<Record<Type, string>>): Promise<SnapshotHead> {
    const outcome = await target.publish(snapshot(group, labels, versions), basedOn, new Date().toISOString());
    expect(outcome.outcome).toBe('published');
    return outcome.head;
  }

  describe('a publish, a change, and the content coming back', () => {
    const group = 'envoy-gc';
    let headA: SnapshotHead;
    let headB: SnapshotHead;
    let markedFrom: number;
    let markedUntil: number;

    it('marks the chunks of the content it replaced to expire after the grace period, and none it names', async () => {
      headA = await published(store, group, A, undefined);
      for (const type of TYPES) expect(headA.types[type]!.chunks).toBeGreaterThan(1);
      markedFrom = nowSeconds() + GRACE_SECONDS;
      headB = await published(store, group, B, headA);
      markedUntil = nowSeconds() + GRACE_SECONDS;

      const items = await scanTable(table);
      for (const type of [XdsType.Endpoint, XdsType.Route] as const) {
        for (const expiresAt of expiries(items, headA, type)) {
          expect(expiresAt).toBeGreaterThanOrEqual(markedFrom);
          expect(expiresAt).toBeLessThanOrEqual(markedUntil);
          expect(expiresAt! * 1000).toBeGreaterThan(Date.now());
        }
        expect(expiries(items, headB, type).every((e) => e === undefined)).toBe(true);
      }
      // Clusters did not change: A and B name the same chunks.
      expect(contentKeyOf(headB, XdsType.Cluster)).toBe(contentKeyOf(headA, XdsType.Cluster));
      expect(expiries(items, headB, XdsType.Cluster).every((e) => e === undefined)).toBe(true);
      // Everything was marked: the HEAD keeps nothing to do.
      expect(items.find((item) => item['pk'] === keys.snapshotHead(group).pk)!['gcPending']).toBeUndefined();
      expect(await store.head(group)).toEqual(headB);
      expect(logger.at('warn')).toEqual([]);
    });

    it('leaves a reader holding the replaced HEAD every chunk of it', async () => {
      const expected = snapshot(group, A);
      for (const type of TYPES) expect(await store.resources(headA, type)).toEqual(expected.resources[type]);
    });

    it('claims content that comes back: its chunks lose their expiry and are not written again, and the content it replaces is marked', async () => {
      const back = await store.publish(snapshot(group, A), headB, new Date().toISOString());
      expect(back).toMatchObject({ outcome: 'published', head: { revision: 3 }, chunksWritten: 0 });
      const items = await scanTable(table);
      for (const type of TYPES) {
        expect(contentKeyOf(back.head, type)).toBe(contentKeyOf(headA, type));
        expect(expiries(items, back.head, type)).toEqual(Array.from({ length: back.head.types[type]!.chunks }, () => undefined));
        expect(await store.resources(back.head, type)).toEqual(snapshot(group, A).resources[type]);
      }
      for (const type of [XdsType.Endpoint, XdsType.Route] as const) {
        expect(expiries(items, headB, type).every((e) => e !== undefined && e * 1000 > Date.now())).toBe(true);
      }
      headA = back.head;
    });

    it('never marks equal content published under another version: it has the same chunks', async () => {
      const relabelled = await published(store, group, A, headA, { [XdsType.Route]: 'v-r1-again' });
      expect(relabelled.types[XdsType.Route]!.version).toBe('v-r1-again');
      expect(contentKeyOf(relabelled, XdsType.Route)).toBe(contentKeyOf(headA, XdsType.Route));
      expect(expiries(await scanTable(table), relabelled, XdsType.Route).every((e) => e === undefined)).toBe(true);
    });
  });

  describe('marks that fail, and marks that come too late', () => {
    it('keeps what it could not mark in the HEAD and marks it at the next publish', async () => {
      const group = 'envoy-gc-retry';
      const headA = await published(store, group, A, undefined);
      const headB = await published(failing, group, B, headA);
      const pending = (headB as SnapshotHead & { gcPending?: string[] }).gcPending;
      expect(pending).toHaveLength(2);
      expect(await store.head(group)).toEqual(headB);
      expect(logger.at('warn').map((line) => line.fields['group'])).toContain(group);
      let items = await scanTable(table);
      expect(expiries(items, headA, XdsType.Endpoint).every((e) => e === undefined)).toBe(true);

      const headC = await published(store, group, C, headB);
      items = await scanTable(table);
      for (const type of [XdsType.Endpoint, XdsType.Route] as const) {
        expect(expiries(items, headA, type).every((e) => e !== undefined)).toBe(true);
        expect(expiries(items, headB, type).every((e) => e !== undefined)).toBe(true);
      }
      // The clusters A and B shared are marked too, with C's publish.
      expect(expiries(items, headB, XdsType.Cluster).every((e) => e !== undefined)).toBe(true);
      expect(expiries(items, headC, XdsType.Endpoint).every((e) => e === undefined)).toBe(true);
      expect((await store.head(group)) as SnapshotHead & { gcPending?: string[] }).not.toHaveProperty('gcPending');
    });

    it('marks what is left at a publish that changes nothing, and trims the HEAD', async () => {
      const group = 'envoy-gc-unchanged';
      const headA = await published(store, group, A, undefined);
      const headB = await published(failing, group, B, headA);
      expect(await store.head(group)).toHaveProperty('gcPending');
      const again = await store.publish(snapshot(group, B), headB, new Date().toISOString());
      expect(again.outcome).toBe('unchanged');
      expect(again.head).not.toHaveProperty('gcPending');
      expect(await store.head(group)).toEqual(again.head);
      expect(expiries(await scanTable(table), headA, XdsType.Route).every((e) => e !== undefined)).toBe(true);
    });

    it('a mark left from a HEAD before the content came back is refused by the chunks the new HEAD claimed', async () => {
      const group = 'envoy-gc-late';
      const headA = await published(store, group, A, undefined);
      // B's publish fails to mark A: A stays pending in HEAD 2.
      const headB = await published(failing, group, B, headA);
      // A comes back at revision 3 before anyone marks it...
      const headA2 = await published(store, group, A, headB);
      expect(headA2).not.toHaveProperty('gcPending');
      // ...and then the marks HEAD 2 asked for are made, late (a slow publisher, a retry from a stale HEAD).
      expect(await store.publish(snapshot(group, B), headB, new Date().toISOString())).toMatchObject({ outcome: 'unchanged' });
      const items = await scanTable(table);
      for (const type of TYPES) expect(expiries(items, headA2, type).every((e) => e === undefined)).toBe(true);
      expect(await store.head(group)).toEqual(headA2);
      for (const type of TYPES) expect(await store.resources(headA2, type)).toEqual(snapshot(group, A).resources[type]);
    });

    it('never recreates a chunk already deleted, and writes it again when its content comes back', async () => {
      const group = 'envoy-gc-deleted';
      const headA = await published(store, group, A, undefined);
      const headB = await published(failing, group, B, headA);
      // As DynamoDB's TTL would, some time after the grace period.
      for (const item of chunkItemsOf(await scanTable(table), headA, XdsType.Route)) {
        await table.documents.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: item['pk'], sk: item['sk'] } }));
      }
      await store.publish(snapshot(group, B), headB, new Date().toISOString());
      expect(chunkItemsOf(await scanTable(table), headA, XdsType.Route)).toEqual([]);

      const back = await store.publish(snapshot(group, A), (await store.head(group))!, new Date().toISOString());
      expect(back).toMatchObject({ outcome: 'published', chunksWritten: headA.types[XdsType.Route]!.chunks });
      expect(expiries(await scanTable(table), back.head, XdsType.Route).every((e) => e === undefined)).toBe(true);
      expect(await store.resources(back.head, XdsType.Route)).toEqual(snapshot(group, A).resources[XdsType.Route]);
    });
  });
});
