/**
 * PartStore on the one table (ports/part-store.ts; keys in table.ts):
 *
 *   HEAD    XDSP#<group>               HEAD            revision, versions, the group part's entry, bucket index → bucket key
 *   bucket  XDSP#<group>#B#<index>     <bucket key>    service → { k: part key, h: hashes per type, n: items }
 *   part    XDSP#<group>#P#<service>   <part key>[#i]  the part's JSON, cut in pieces under 340 KB when it needs more than one item
 *
 * A service's bucket is FNV-1a of its name modulo BUCKETS, so one change reads and rewrites one
 * bucket of about services/64 small entries (about 16 KB at 10,000 services), and the HEAD stays
 * one read unit. Parts and buckets are written once under their content key; a publish whose
 * content exists already claims it (`claimRevision`, expiry removed), and after the HEAD write the
 * items it no longer names get the table's TTL an hour ahead unless a later HEAD claimed them
 * (the same guard as snapshot-store.ts, whose comment says why TTL and not DeleteItem). A publish
 * that crashes between its HEAD write and those marks leaves the superseded items without expiry:
 * harmless but kept (docs/dataplane.md, what is left).
 *
 * Immutable items are cached per instance (a bounded map, cleared when full): a discovery function
 * answering many polls of the same HEAD reads each bucket and part once.
 */
import { createHash } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mapConcurrently } from '../../domain/concurrency.js';
import { InternalError, NotFoundError, VersionConflictError } from '../../domain/errors.js';
import { assembleType, EMPTY_HASH, GROUP_PART, xorHashes, type SnapshotPart } from '../../domain/snapshot-parts.js';
import type { Logger } from '../../ports/logger.js';
import type { PartsChange, PartsHead, PartsPublishOutcome, PartStore } from '../../ports/part-store.js';
import type { StoredResource } from '../../ports/snapshot-store.js';
import { createJsonLogger } from '../json-logger.js';
import { batchGetKeys, isConditionFailure, storeFailure, type TableHandle } from './client.js';
import { splitUtf8 } from './snapshot-store.js';
import { claimItem, markItemToExpire } from './claimed-items.js';
import { keys } from './table.js';

export const BUCKETS = 64;
const PIECE_BYTES = 340_000;
const BATCH_KEYS = 100;
const CONCURRENCY = 8;
const CACHE_LIMIT = 20_000;
const GC_GRACE_SECONDS = 3600;

/** Where a part is and what it weighs in the versions: a bucket's entry, and the HEAD's for the group part. */
interface PartEntry {
  k: string;
  h: Record<string, string>;
  /** Items the part takes (1 unless it is over PIECE_BYTES). */
  n: number;
}

interface StoredHead extends PartsHead {
  groupPart: PartEntry;
  /** Bucket index (as a string) → bucket key; empty buckets are absent. */
  buckets: Record<string, string>;
}

type Key = { pk: string; sk: string };
type Entries = Record<string, PartEntry>;

export interface PartStoreOptions {
  logger?: Logger;
  gcGraceSeconds?: number;
}

export class DynamoDbPartStore implements PartStore {
  private readonly cache = new Map<string, unknown>();
  private readonly logger: Logger;
  private readonly gcGraceSeconds: number;

  constructor(
    private readonly table: TableHandle,
    options: PartStoreOptions = {},
  ) {
    this.logger = options.logger ?? createJsonLogger({ level: 'warn' });
    this.gcGraceSeconds = options.gcGraceSeconds ?? GC_GRACE_SECONDS;
  }

  async head(group: string): Promise<PartsHead | undefined> {
    try {
      const { Item } = await this.table.documents.send(new GetCommand({ TableName: this.table.tableName, Key: keys.partsHead(group), ConsistentRead: true }));
      if (!Item) return undefined;
      const head: StoredHead = {
        group,
        revision: Item['revision'] as number,
        publishedAt: Item['publishedAt'] as string,
        versions: Item['versions'] as Record<string, string>,
        groupPart: Item['groupPart'] as PartEntry,
        buckets: (Item['buckets'] as Record<string, string> | undefined) ?? {},
      };
      return head;
    } catch (error) {
      throw storeFailure(error, this.table.tableName, `read the parts head of proxy group ${group}`);
    }
  }

  async parts(head: PartsHead, services: readonly string[]): Promise<Map<string, SnapshotPart>> {
    const stored = head as StoredHead;
    const wanted = services.filter((s) => s !== GROUP_PART);
    const buckets = await this.readBuckets(stored, [...new Set(wanted.map(bucketOf))]);
    const located: [string, PartEntry][] = wanted.flatMap((service) => {
      const entry = buckets.get(bucketOf(service))?.[service];
      return entry ? [[service, entry] as [string, PartEntry]] : [];
    });
    if (services.includes(GROUP_PART)) located.push([GROUP_PART, stored.groupPart]);
    return new Map((await this.readParts(head.group, located)).map((part) => [part.service, part]));
  }

  async manifest(head: PartsHead): Promise<Map<string, string>> {
    const buckets = await this.readBuckets(head as StoredHead, Object.keys((head as StoredHead).buckets).map(Number));
    const out = new Map<string, string>();
    for (const entries of buckets.values()) for (const [service, entry] of Object.entries(entries)) out.set(service, entry.k);
    return out;
  }

  async allParts(head: PartsHead): Promise<SnapshotPart[]> {
    const stored = head as StoredHead;
    const buckets = await this.readBuckets(stored, Object.keys(stored.buckets).map(Number));
    const located: [string, PartEntry][] = [[GROUP_PART, stored.groupPart]];
    for (const entries of buckets.values()) located.push(...Object.entries(entries));
    return this.readParts(head.group, located);
  }

  async resources(head: PartsHead, typeUrl: string): Promise<StoredResource[]> {
    if (head.versions[typeUrl] === undefined) throw new NotFoundError(`the snapshot of proxy group ${head.group} has no ${typeUrl}`);
    return assembleType(await this.allParts(head), typeUrl);
  }

  async publish(group: string, change: PartsChange, basedOn: PartsHead | undefined, at: string): Promise<PartsPublishOutcome> {
    if (basedOn && basedOn.group !== group) throw new InternalError(`publishing proxy group ${group} over the head of ${basedOn.group}`);
    const base = basedOn as StoredHead | undefined;
    const revision = (base?.revision ?? 0) + 1;
    const touched = [...new Set([...change.put.map((p) => p.service), ...change.remove].map(bucketOf))];
    const entriesByBucket = await this.readBuckets(base ?? emptyHead(group), touched);
    const versions: Record<string, string> = { ...(base?.versions ?? {}) };
    const reweigh = (removed: PartEntry | undefined, added: PartEntry | undefined): void => {
      for (const typeUrl of new Set([...Object.keys(removed?.h ?? {}), ...Object.keys(added?.h ?? {})])) {
        versions[typeUrl] = xorHashes([versions[typeUrl] ?? EMPTY_HASH, removed?.h[typeUrl] ?? EMPTY_HASH, added?.h[typeUrl] ?? EMPTY_HASH]);
      }
    };
    const writes: { key: Key; item: Record<string, unknown> }[] = [];
    const superseded: Key[] = [];
    const changedBuckets = new Set<number>();

    const replace = (service: string, part: SnapshotPart | undefined): void => {
      const index = bucketOf(service);
      const entries = { ...(entriesByBucket.get(index) ?? {}) };
      const old = entries[service];
      if (old?.k === part?.key) return;
      const added = part && this.partWrites(group, part, writes);
      reweigh(old, added);
      if (old) superseded.push(...partKeys(group, service, old));
      if (added) entries[service] = added;
      else delete entries[service];
      entriesByBucket.set(index, entries);
      changedBuckets.add(index);
    };
    for (const part of change.put) replace(part.service, part);
    for (const service of change.remove) replace(service, undefined);

    let groupPart = base?.groupPart;
    if (groupPart?.k !== change.groupPart.key) {
      const added = this.partWrites(group, change.groupPart, writes);
      reweigh(groupPart, added);
      if (groupPart) superseded.push(...partKeys(group, GROUP_PART, groupPart));
      groupPart = added;
    }
    if (base && changedBuckets.size === 0 && groupPart === base.groupPart) return { outcome: 'unchanged', head: publicHead(base) };

    const buckets = { ...(base?.buckets ?? {}) };
    for (const index of changedBuckets) {
      const entries = entriesByBucket.get(index)!;
      const previous = buckets[String(index)];
      if (previous) superseded.push(keys.partsBucket(group, index, previous));
      if (Object.keys(entries).length === 0) {
        delete buckets[String(index)];
        continue;
      }
      const bucketKey = contentKey(JSON.stringify(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : 1))), 16);
      buckets[String(index)] = bucketKey;
      writes.push({ key: keys.partsBucket(group, index, bucketKey), item: { entity: 'xds-bucket', entries } });
    }
    const named = new Set(writes.map((w) => `${w.key.pk}|${w.key.sk}`));
    const created = await mapConcurrently(writes, CONCURRENCY, (w) => this.writeOnce(w.key, w.item, revision));

    const head: StoredHead = { group, revision, publishedAt: at, versions, groupPart: groupPart!, buckets };
    const expected = base?.revision ?? 0;
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.partsHead(group), entity: 'xds-parts-head', revision, publishedAt: at, versions, groupPart, buckets },
          ConditionExpression: base ? '#revision = :expected' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: base ? { '#revision': 'revision' } : undefined,
          ExpressionAttributeValues: base ? { ':expected': expected } : undefined,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError(`parts head of proxy group ${group}`, expected);
      throw storeFailure(error, this.table.tableName, `publish the parts of proxy group ${group}`);
    }
    await this.markSuperseded(group, superseded.filter((k) => !named.has(`${k.pk}|${k.sk}`)), revision);
    const partsWritten = writes.filter((w, i) => created[i] && w.item['entity'] === 'xds-part' && !w.key.sk.includes('#')).length;
    return { outcome: 'published', head: publicHead(head), partsWritten };
  }

  /** The items that store `part`, appended to `writes`; its entry. */
  private partWrites(group: string, part: SnapshotPart, writes: { key: Key; item: Record<string, unknown> }[]): PartEntry {
    const pieces = splitUtf8(JSON.stringify({ resources: part.resources, fragments: part.fragments }), PIECE_BYTES);
    const entry: PartEntry = { k: part.key, h: { ...part.hashes }, n: pieces.length };
    for (const key of partKeys(group, part.service, entry)) writes.push({ key, item: { entity: 'xds-part', piece: pieces[pieceIndex(key)] } });
    return entry;
  }

  /** Reads the buckets at `indexes` of `head` (an index without a bucket reads as empty). */
  private async readBuckets(head: StoredHead, indexes: readonly number[]): Promise<Map<number, Entries>> {
    const wanted = indexes.flatMap((index) => (head.buckets[String(index)] ? [{ index, key: keys.partsBucket(head.group, index, head.buckets[String(index)]!) }] : []));
    const items = await this.readItems(wanted.map((w) => w.key), `read the manifest of proxy group ${head.group}`);
    const out = new Map<number, Entries>(indexes.map((index) => [index, {}]));
    for (const { index, key } of wanted) out.set(index, items.get(`${key.pk}|${key.sk}`)!['entries'] as Entries);
    return out;
  }

  private async readParts(group: string, located: readonly [string, PartEntry][]): Promise<SnapshotPart[]> {
    const allKeys = located.flatMap(([service, entry]) => partKeys(group, service, entry));
    const items = await this.readItems(allKeys, `read the parts of proxy group ${group}`);
    return located.map(([service, entry]) => {
      const text = partKeys(group, service, entry).map((k) => items.get(`${k.pk}|${k.sk}`)!['piece'] as string).join('');
      const body = JSON.parse(text) as Pick<SnapshotPart, 'resources' | 'fragments'>;
      return { service, key: entry.k, hashes: entry.h, resources: body.resources, fragments: body.fragments };
    });
  }

  /** Items by key, from the cache or BatchGetItem (eventually consistent first, strongly for what is missing). Throws InternalError when one is missing. */
  private async readItems(wanted: readonly Key[], verb: string): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    const toRead = wanted.filter((k) => {
      const cached = this.cache.get(`${k.pk}|${k.sk}`) as Record<string, unknown> | undefined;
      if (cached) found.set(`${k.pk}|${k.sk}`, cached);
      return !cached;
    });
    let missing = await this.batchGet(toRead, false, found, verb);
    if (missing.length > 0) missing = await this.batchGet(missing, true, found, verb);
    if (missing.length > 0) throw new InternalError(`${verb}: ${missing.map((k) => `${k.pk} ${k.sk}`).join(', ')} missing from DynamoDB table ${this.table.tableName}`);
    if (this.cache.size + toRead.length > CACHE_LIMIT) this.cache.clear();
    for (const k of toRead) this.cache.set(`${k.pk}|${k.sk}`, found.get(`${k.pk}|${k.sk}`));
    return found;
  }

  private async batchGet(wanted: readonly Key[], consistent: boolean, found: Map<string, Record<string, unknown>>, verb: string): Promise<Key[]> {
    await batchGetKeys(this.table, wanted, { consistent, batchKeys: BATCH_KEYS, concurrency: CONCURRENCY, verb }, (item) => found.set(`${item['pk'] as string}|${item['sk'] as string}`, item));
    return wanted.filter((k) => !found.has(`${k.pk}|${k.sk}`));
  }

  /** Creates the item, or claims the existing one (same content, by its key) for `revision`: true when this call created it. */
  private async writeOnce(key: Key, item: Record<string, unknown>, revision: number): Promise<boolean> {
    try {
      await this.table.documents.send(new PutCommand({ TableName: this.table.tableName, Item: { ...key, ...item, claimRevision: revision }, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw storeFailure(error, this.table.tableName, `write ${key.sk} of ${key.pk}`);
    }
    // It exists: claimed, unless a later revision holds it (that HEAD is written or being written, and this publish's HEAD write will be refused).
    await claimItem(this.table, key, revision);
    return false;
  }

  /** Gives the items no longer named their expiry, unless a HEAD from `supersededAt` on claimed them. Never throws: the HEAD is out. */
  private async markSuperseded(group: string, superseded: readonly Key[], supersededAt: number): Promise<void> {
    const expiresAt = Math.floor(Date.now() / 1000) + this.gcGraceSeconds;
    await mapConcurrently(superseded, CONCURRENCY, async (key) => {
      try {
        await markItemToExpire(this.table, key, supersededAt, expiresAt);
      } catch (error) {
        this.logger.warn('xds superseded part not marked to expire; it stays in the table', { group, key, error: (error as Error).message });
      }
    });
  }
}

/** FNV-1a (32 bits) of the service name, modulo BUCKETS: the same in every instance. */
export function bucketOf(service: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < service.length; i++) hash = Math.imul(hash ^ service.charCodeAt(i), 0x01000193) >>> 0;
  return hash % BUCKETS;
}

function partKeys(group: string, service: string, entry: PartEntry): Key[] {
  return Array.from({ length: entry.n }, (_, i) => keys.partsPart(group, service, entry.k, i));
}

function pieceIndex(key: Key): number {
  const at = key.sk.indexOf('#');
  return at < 0 ? 0 : Number(key.sk.slice(at + 1));
}

function contentKey(text: string, digits: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, digits);
}

function emptyHead(group: string): StoredHead {
  return { group, revision: 0, publishedAt: '', versions: {}, groupPart: { k: '', h: {}, n: 0 }, buckets: {} };
}

/** The HEAD as the port shows it: the adapter's fields stay on the object (callers pass it back), typed away. */
function publicHead(head: StoredHead): PartsHead {
  return head;
}
