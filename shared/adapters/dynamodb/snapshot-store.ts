/**
 * SnapshotStore on the one table (key design in table.ts).
 *
 * A type's resources are stored as the UTF-8 JSON of their list, cut into pieces of at most
 * `chunkBytes` (one item each, far below DynamoDB's 400 KB), whatever the size of one resource:
 * the Envoy route configuration of a 10,000-service mesh alone is megabytes. A chunk's key is a
 * digest of the whole text and of the cut, so equal content always lands on the same items and a
 * chunk that exists already holds exactly what would be written.
 *
 * Reads of chunks are BatchGetItem by key (the HEAD says how many there are), eventually consistent
 * first: a chunk's content never changes, and only a chunk written in the last moment can be
 * missing, which a strongly consistent retry of just those keys finds.
 *
 * Superseded chunks expire. Once a HEAD write succeeds, the chunks of every content the previous
 * HEAD named and the new one does not are given the table's TTL (`expiresAt`), `gcGraceSeconds`
 * (1 hour) from now, and DynamoDB deletes them some time after (typically within two days). Why
 * TTL rather than DeleteItem: a reader that read the old HEAD a moment ago (a discovery function
 * between its HEAD read and its chunk reads, the ADS server between polls) still finds every chunk
 * for at least the grace period, and until the deletion actually happens, since reads by key return
 * expired items; and TTL deletions cost no write capacity.
 *
 * Content comes back (a rollback republishes the content of two revisions ago, and equal content
 * always has the same chunks), so an expiry must never outlive a HEAD that names the content again:
 * - every publish *claims* the chunks of each type whose version changed: it sets the chunk's
 *   `claimRevision` to the revision it is about to write and removes any expiry (or creates the
 *   chunk with that revision), before its HEAD write;
 * - an expiry is set only by a condition that no HEAD from the superseding revision on has
 *   claimed the chunk (`claimRevision` below it). HEAD revisions form one chain (each is a
 *   conditional write over the one before), so a stale marker, one that runs after a later publish
 *   claimed the content again, is refused by the item itself, whatever the order of the writes.
 * What is to be marked is kept in the HEAD, written with it (`gcPending`: a publish that crashes or
 * fails after its HEAD write leaves it there), and the list is trimmed once the marks are stored.
 * The next publish, or the next unchanged one (reconciliation publishes every few minutes), marks
 * what is left; a failure is logged and never fails the publish, whose HEAD is already out.
 * What a publish that loses the HEAD race wrote or claimed is not marked (no HEAD supersedes it):
 * see docs/dataplane.md.
 */
import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mapConcurrently } from '../../domain/concurrency.js';
import { InternalError, NotFoundError, VersionConflictError } from '../../domain/errors.js';
import type { Logger } from '../../ports/logger.js';
import type { AckReport, ProxyAck, PublishedType, PublishOutcome, SnapshotHead, SnapshotStore, SnapshotToPublish, StoredResource } from '../../ports/snapshot-store.js';
import { createJsonLogger } from '../json-logger.js';
import { batchGetKeys, isConditionFailure, queryAll, storeFailure, type TableHandle } from './client.js';
import { claimItem, markItemToExpire } from './claimed-items.js';
import { keys } from './table.js';

/** Room for the key and attribute names under 350 KB. */
export const DEFAULT_CHUNK_BYTES = 340_000;
/** Keys per BatchGetItem: 40 full chunks stay under its 16 MB answer limit. */
const BATCH_KEYS = 40;
/** Puts and batch reads in flight at once. */
const CONCURRENCY = 8;
/** Acknowledgements remembered per instance: 100,000 nodes × types is a few MB. */
const MEMO_LIMIT = 100_000;
/** How long superseded chunks stay readable at least: far longer than any read of an old HEAD takes. */
export const DEFAULT_GC_GRACE_SECONDS = 3600;
/**
 * Contents kept in a HEAD's `gcPending` at most (~70 bytes each: the HEAD stays within one 4 KB read
 * unit). Only marks failing publish after publish pile up; past this, the oldest are given up (logged).
 */
const PENDING_LIMIT = 16;

export interface SnapshotStoreOptions {
  chunkBytes?: number;
  /** How long superseded chunks are kept after the publish that superseded them (default 1 hour). */
  gcGraceSeconds?: number;
  /** Where a failure to mark superseded chunks is reported (default: JSON lines, warn and above). */
  logger?: Logger;
}

interface StoredType extends PublishedType {
  /** Where the chunks are: a digest of the stored text and of how it was cut. */
  contentKey: string;
}

/**
 * A HEAD as stored: the port's, plus the superseded contents whose chunks are not known to be
 * marked yet, each `<type>#<content key>#<chunks>#<revision that superseded it>` (a string, not a
 * map: a third of the size). Absent when there are none.
 */
interface StoredHead extends SnapshotHead {
  gcPending?: string[];
}

/** One entry of `gcPending`, parsed. */
interface Superseded {
  type: string;
  contentKey: string;
  chunks: number;
  supersededAt: number;
}

type ChunkKey = { pk: string; sk: string };

export class DynamoDbSnapshotStore implements SnapshotStore {
  private readonly chunkBytes: number;
  private readonly gcGraceSeconds: number;
  private readonly logger: Logger;
  /** Per (field, group, node, type): the version this instance last saw stored. Bounded: cleared when full. */
  private readonly lastStored = new Map<string, string>();

  constructor(
    private readonly table: TableHandle,
    options: SnapshotStoreOptions = {},
  ) {
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.gcGraceSeconds = options.gcGraceSeconds ?? DEFAULT_GC_GRACE_SECONDS;
    this.logger = options.logger ?? createJsonLogger({ level: 'warn' });
  }

  async head(group: string): Promise<SnapshotHead | undefined> {
    try {
      const { Item } = await this.table.documents.send(new GetCommand({ TableName: this.table.tableName, Key: keys.snapshotHead(group), ConsistentRead: true }));
      if (!Item) return undefined;
      const head: StoredHead = { group, revision: Item['revision'] as number, publishedAt: Item['publishedAt'] as string, types: Item['types'] as Record<string, StoredType> };
      const pending = Item['gcPending'] as string[] | undefined;
      if (pending && pending.length > 0) head.gcPending = pending;
      return head;
    } catch (error) {
      throw storeFailure(error, this.table.tableName, `read the snapshot head of proxy group ${group}`);
    }
  }

  async publish(snapshot: SnapshotToPublish, basedOn: SnapshotHead | undefined, at: string): Promise<PublishOutcome> {
    const { group } = snapshot;
    if (basedOn && basedOn.group !== group) throw new InternalError(`publishing proxy group ${group} over the head of ${basedOn.group}`);
    const revision = (basedOn?.revision ?? 0) + 1;
    const types: Record<string, StoredType> = {};
    let chunksWritten = 0;
    for (const typeUrl of Object.keys(snapshot.resources).sort()) {
      const version = snapshot.versions[typeUrl];
      if (!version) throw new InternalError(`snapshot of proxy group ${group} has no version for ${typeUrl}`);
      const previous = basedOn?.types[typeUrl] as StoredType | undefined;
      if (previous?.version === version) {
        types[typeUrl] = previous;
        continue;
      }
      const text = JSON.stringify(snapshot.resources[typeUrl]);
      const parts = splitUtf8(text, this.chunkBytes);
      const contentKey = createHash('sha256').update(`${this.chunkBytes}\n${text}`).digest('hex').slice(0, 32);
      types[typeUrl] = { version, chunks: parts.length, bytes: Buffer.byteLength(text), contentKey };
      const written = await mapConcurrently(parts, CONCURRENCY, (part, index) => this.writeChunk(keys.snapshotChunk(group, messageName(typeUrl), contentKey, index), part, revision));
      chunksWritten += written.filter(Boolean).length;
    }
    const sameTypes = basedOn !== undefined && sameKeys(types, basedOn.types) && Object.entries(types).every(([typeUrl, t]) => basedOn.types[typeUrl]?.version === t.version);
    // Nothing to publish, but what an earlier publish left to mark is marked now.
    if (sameTypes) return { outcome: 'unchanged', head: await this.markSuperseded(basedOn) };

    const gcPending = this.pendingAfter(basedOn, types, revision);
    const head: StoredHead = { group, revision, publishedAt: at, types, ...(gcPending.length > 0 ? { gcPending } : {}) };
    const expected = basedOn?.revision ?? 0;
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.snapshotHead(group), entity: 'xds-head', revision, publishedAt: at, types, ...(gcPending.length > 0 ? { gcPending } : {}) },
          ConditionExpression: basedOn ? '#revision = :expected' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: basedOn ? { '#revision': 'revision' } : undefined,
          ExpressionAttributeValues: basedOn ? { ':expected': expected } : undefined,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError(`snapshot head of proxy group ${group}`, expected);
      throw storeFailure(error, this.table.tableName, `publish the snapshot of proxy group ${group}`);
    }
    return { outcome: 'published', head: await this.markSuperseded(head), chunksWritten };
  }

  async resources(head: SnapshotHead, typeUrl: string): Promise<StoredResource[]> {
    const stored = head.types[typeUrl] as StoredType | undefined;
    if (!stored) throw new NotFoundError(`the snapshot of proxy group ${head.group} has no ${typeUrl}`);
    const chunkKeys = Array.from({ length: stored.chunks }, (_, index) => keys.snapshotChunk(head.group, messageName(typeUrl), stored.contentKey, index));
    const verb = `read ${messageName(typeUrl)} ${stored.version} of proxy group ${head.group}`;
    const parts = new Map<string, string>();
    const missing = await this.batchGet(chunkKeys, false, parts, verb);
    if (missing.length > 0 && (await this.batchGet(missing, true, parts, verb)).length > 0) {
      throw new InternalError(`${verb}: chunks ${missing.map((k) => k.sk).join(', ')} are missing from DynamoDB table ${this.table.tableName}`);
    }
    const text = chunkKeys.map((key) => parts.get(key.sk)!).join('');
    return JSON.parse(text) as StoredResource[];
  }

  async recordAck(report: AckReport): Promise<'recorded' | 'unchanged'> {
    return this.conditionalRecord(report, { version: 'version', at: 'at' }, `record the ${messageName(report.typeUrl)} version node ${report.nodeId} runs`);
  }

  async recordServed(report: AckReport): Promise<'recorded' | 'unchanged'> {
    return this.conditionalRecord(report, { version: 'servedVersion', at: 'servedAt' }, `record the ${messageName(report.typeUrl)} version served to node ${report.nodeId}`);
  }

  async listAcks(group: string): Promise<ProxyAck[]> {
    const items = await queryAll(
      this.table,
      { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.proxyAcks(group) }, ConsistentRead: true },
      `list the acknowledgements of proxy group ${group}`,
    );
    return items.map((item) => toAck(group, item)).sort((a, b) => compare(a.nodeId, b.nodeId) || compare(a.typeUrl, b.typeUrl));
  }

  /**
   * Makes the chunk at `key` hold `part` with no expiry, claimed by `revision` (see the file's
   * comment): true when this call created it, false when it existed (with the same content, by its
   * key). Claim first (one small update, no payload: content that comes back is rewritten for
   * nothing), create when there is nothing to claim; a chunk created meanwhile by a racing publish
   * is claimed after all. A claim refused twice means a later revision holds it: that HEAD is
   * written or being written, so this publish's HEAD write will be refused.
   */
  private async writeChunk(key: ChunkKey, part: string, revision: number): Promise<boolean> {
    if (await this.claimChunk(key, revision)) return false;
    if (await this.createChunk(key, part, revision)) return true;
    await this.claimChunk(key, revision);
    return false;
  }

  /** True when the chunk exists and now carries `revision` and no expiry (claimed-items.ts). */
  private claimChunk(key: ChunkKey, revision: number): Promise<boolean> {
    return claimItem(this.table, key, revision);
  }

  /** Write-once: true when this call created the chunk, false when it existed. */
  private async createChunk(key: ChunkKey, part: string, revision: number): Promise<boolean> {
    try {
      await this.table.documents.send(
        new PutCommand({ TableName: this.table.tableName, Item: { ...key, entity: 'xds-chunk', part, claimRevision: revision }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure(error, this.table.tableName, `write ${key.sk} of ${key.pk}`);
    }
  }

  /**
   * What the HEAD at `revision` leaves to mark: what `basedOn` left, and every content `basedOn`
   * named, less whatever the new HEAD names (content keys are digests: equal content, same chunks).
   */
  private pendingAfter(basedOn: SnapshotHead | undefined, types: Record<string, StoredType>, revision: number): string[] {
    const named = new Set(Object.entries(types).map(([typeUrl, t]) => `${messageName(typeUrl)}#${t.contentKey}`));
    const pending = new Map<string, string>();
    for (const entry of (basedOn as StoredHead | undefined)?.gcPending ?? []) pending.set(contentOf(entry), entry);
    for (const [typeUrl, t] of Object.entries((basedOn?.types ?? {}) as Record<string, StoredType>)) {
      const content = `${messageName(typeUrl)}#${t.contentKey}`;
      if (!pending.has(content)) pending.set(content, `${content}#${t.chunks}#${revision}`);
    }
    const kept = [...pending.entries()].filter(([content]) => !named.has(content)).map(([, entry]) => entry);
    if (kept.length <= PENDING_LIMIT) return kept;
    // Oldest first (the superseding revision): those are the ones given up.
    kept.sort((a, b) => parseSuperseded(a).supersededAt - parseSuperseded(b).supersededAt);
    const dropped = kept.slice(0, kept.length - PENDING_LIMIT);
    this.logger.warn('xds superseded chunks given up: they stay in the table without expiry', { group: basedOn?.group, contents: dropped });
    return kept.slice(kept.length - PENDING_LIMIT);
  }

  /**
   * Marks the chunks of every content in `head.gcPending` to expire, then trims the stored list to
   * what failed, if the HEAD is still at `head.revision`. Never throws: the HEAD is published, and
   * what is left is marked by a later publish. Resolves with `head` as it is now stored (or was).
   */
  private async markSuperseded(head: StoredHead): Promise<StoredHead> {
    const pending = head.gcPending ?? [];
    if (pending.length === 0) return head;
    // The real clock, not the publish's `at`: DynamoDB compares the expiry with its own clock.
    const expiresAt = Math.floor(Date.now() / 1000) + this.gcGraceSeconds;
    const marks = pending.flatMap((entry) => {
      const superseded = parseSuperseded(entry);
      return Array.from({ length: superseded.chunks }, (_, index) => ({ entry, superseded, index }));
    });
    const failed = new Set<string>();
    await mapConcurrently(marks, CONCURRENCY, async ({ entry, superseded, index }) => {
      if (failed.has(entry)) return;
      try {
        await this.markChunk(keys.snapshotChunk(head.group, superseded.type, superseded.contentKey, index), superseded.supersededAt, expiresAt);
      } catch (error) {
        if (!failed.has(entry)) this.logger.warn('xds superseded chunks not marked to expire; the next publish retries', { group: head.group, content: entry, error: (error as Error).message });
        failed.add(entry);
      }
    });
    const left = pending.filter((entry) => failed.has(entry));
    const { gcPending: _, ...rest } = head;
    const trimmed: StoredHead = left.length > 0 ? { ...rest, gcPending: left } : rest;
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.snapshotHead(head.group),
          UpdateExpression: left.length > 0 ? 'SET #pending = :left' : 'REMOVE #pending',
          ConditionExpression: '#revision = :revision',
          ExpressionAttributeNames: { '#pending': 'gcPending', '#revision': 'revision' },
          ExpressionAttributeValues: { ':revision': head.revision, ...(left.length > 0 ? { ':left': left } : {}) },
        }),
      );
      return trimmed;
    } catch (error) {
      // The HEAD moved on: the publish that moved it carried the list (its marks are refused by the
      // chunks where they are stale). Otherwise the list stays, and is marked again next time.
      if (!isConditionFailure(error)) this.logger.warn('xds snapshot HEAD not trimmed of marked contents; the next publish marks them again', { group: head.group, error: (error as Error).message });
      return head;
    }
  }

  /** Sets the chunk's expiry, only while no HEAD from `supersededAt` on has claimed it (claimed-items.ts). */
  private markChunk(key: ChunkKey, supersededAt: number, expiresAt: number): Promise<void> {
    return markItemToExpire(this.table, key, supersededAt, expiresAt);
  }

  /** Reads `wanted` into `parts` (by sort key); resolves with the keys DynamoDB does not have. */
  private async batchGet(wanted: readonly { pk: string; sk: string }[], consistent: boolean, parts: Map<string, string>, verb: string): Promise<{ pk: string; sk: string }[]> {
    await batchGetKeys(this.table, wanted, { consistent, batchKeys: BATCH_KEYS, concurrency: CONCURRENCY, verb }, (item) => parts.set(item['sk'] as string, item['part'] as string));
    return wanted.filter((key) => !parts.has(key.sk));
  }

  /**
   * One UpdateItem that writes only when the stored value of `names.version` differs:
   * ConditionalCheckFailed means unchanged. What this instance last saw stored is remembered, so a
   * proxy polling an unchanged version costs no write at all after the first (a refused conditional
   * write still costs a write unit, and was the slowest part of a current poll). A node whose
   * version changes is written again, so the record never stays behind what the node reports.
   */
  private async conditionalRecord(report: AckReport, names: { version: string; at: string }, verb: string): Promise<'recorded' | 'unchanged'> {
    const memoKey = `${names.version}|${report.group}|${report.nodeId}|${report.typeUrl}`;
    if (this.lastStored.get(memoKey) === report.version) return 'unchanged';
    const outcome = await this.sendConditionalRecord(report, names, verb);
    if (this.lastStored.size >= MEMO_LIMIT) this.lastStored.clear();
    this.lastStored.set(memoKey, report.version);
    return outcome;
  }

  private async sendConditionalRecord(report: AckReport, names: { version: string; at: string }, verb: string): Promise<'recorded' | 'unchanged'> {
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.proxyAck(report.group, report.nodeId, report.typeUrl),
          UpdateExpression: 'SET #entity = :entity, #node = :node, #type = :type, #version = :version, #at = :at',
          ConditionExpression: 'attribute_not_exists(#version) OR #version <> :version',
          ExpressionAttributeNames: { '#entity': 'entity', '#node': 'nodeId', '#type': 'typeUrl', '#version': names.version, '#at': names.at },
          ExpressionAttributeValues: { ':entity': 'xds-ack', ':node': report.nodeId, ':type': report.typeUrl, ':version': report.version, ':at': report.at },
        }),
      );
      return 'recorded';
    } catch (error) {
      if (isConditionFailure(error)) return 'unchanged';
      throw storeFailure(error, this.table.tableName, verb);
    }
  }
}

/**
 * Cuts `text` into pieces of at most `maxBytes` UTF-8 bytes, never inside a character (a cut
 * backs off over continuation bytes, 0b10xxxxxx). Always at least one piece.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const parts: string[] = [];
  let start = 0;
  do {
    let end = Math.min(start + maxBytes, bytes.length);
    while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--;
    parts.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
  } while (start < bytes.length);
  return parts;
}

function toAck(group: string, item: Record<string, unknown>): ProxyAck {
  const served = typeof item['servedVersion'] === 'string' ? { version: item['servedVersion'], at: item['servedAt'] as string } : undefined;
  return {
    group,
    nodeId: item['nodeId'] as string,
    typeUrl: item['typeUrl'] as string,
    // A record a 200 answer created before the node's report was recorded: it runs nothing known yet.
    version: typeof item['version'] === 'string' ? item['version'] : '',
    at: (item['at'] as string | undefined) ?? served?.at ?? '',
    ...(served ? { served } : {}),
  };
}

/** `<type>#<content key>#<chunks>#<revision>` → its parts. */
function parseSuperseded(entry: string): Superseded {
  const [type, contentKey, chunks, supersededAt] = entry.split('#');
  return { type: type!, contentKey: contentKey!, chunks: Number(chunks), supersededAt: Number(supersededAt) };
}

/** `<type>#<content key>`: which chunks an entry of `gcPending` is about. */
function contentOf(entry: string): string {
  return entry.split('#', 2).join('#');
}

/** `type.googleapis.com/envoy.config.cluster.v3.Cluster` → `Cluster`. */
function messageName(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}

function sameKeys(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const left = Object.keys(a).sort();
  const right = Object.keys(b).sort();
  return left.length === right.length && left.every((key, i) => key === right[i]);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
