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
 * first: chunks never change, and only a chunk written in the last moment can be missing, which a
 * strongly consistent retry of just those keys finds.
 */
import { createHash } from 'node:crypto';
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mapConcurrently } from '../../domain/concurrency.js';
import { DependencyUnavailableError, InternalError, NotFoundError, VersionConflictError } from '../../domain/errors.js';
import type { AckReport, ProxyAck, PublishedType, PublishOutcome, SnapshotHead, SnapshotStore, SnapshotToPublish, StoredResource } from '../../ports/snapshot-store.js';
import { isConditionFailure, queryAll, storeFailure, type TableHandle } from './client.js';
import { keys } from './table.js';

/** Room for the key and attribute names under 350 KB. */
export const DEFAULT_CHUNK_BYTES = 340_000;
/** Keys per BatchGetItem: 40 full chunks stay under its 16 MB answer limit. */
const BATCH_KEYS = 40;
/** Puts and batch reads in flight at once. */
const CONCURRENCY = 8;
const BATCH_ATTEMPTS = 6;
/** Acknowledgements remembered per instance: 100,000 nodes × types is a few MB. */
const MEMO_LIMIT = 100_000;

export interface SnapshotStoreOptions {
  chunkBytes?: number;
}

interface StoredType extends PublishedType {
  /** Where the chunks are: a digest of the stored text and of how it was cut. */
  contentKey: string;
}

export class DynamoDbSnapshotStore implements SnapshotStore {
  private readonly chunkBytes: number;
  /** Per (field, group, node, type): the version this instance last saw stored. Bounded: cleared when full. */
  private readonly lastStored = new Map<string, string>();

  constructor(
    private readonly table: TableHandle,
    options: SnapshotStoreOptions = {},
  ) {
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  async head(group: string): Promise<SnapshotHead | undefined> {
    try {
      const { Item } = await this.table.documents.send(new GetCommand({ TableName: this.table.tableName, Key: keys.snapshotHead(group), ConsistentRead: true }));
      return Item ? { group, revision: Item['revision'] as number, publishedAt: Item['publishedAt'] as string, types: Item['types'] as Record<string, StoredType> } : undefined;
    } catch (error) {
      throw storeFailure(error, this.table.tableName, `read the snapshot head of proxy group ${group}`);
    }
  }

  async publish(snapshot: SnapshotToPublish, basedOn: SnapshotHead | undefined, at: string): Promise<PublishOutcome> {
    const { group } = snapshot;
    if (basedOn && basedOn.group !== group) throw new InternalError(`publishing proxy group ${group} over the head of ${basedOn.group}`);
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
      const written = await mapConcurrently(parts, CONCURRENCY, (part, index) => this.putChunk(keys.snapshotChunk(group, messageName(typeUrl), contentKey, index), part, typeUrl));
      chunksWritten += written.filter(Boolean).length;
    }
    const sameTypes = basedOn !== undefined && sameKeys(types, basedOn.types) && Object.entries(types).every(([typeUrl, t]) => basedOn.types[typeUrl]?.version === t.version);
    if (sameTypes) return { outcome: 'unchanged', head: basedOn };

    const head: SnapshotHead = { group, revision: (basedOn?.revision ?? 0) + 1, publishedAt: at, types };
    const expected = basedOn?.revision ?? 0;
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.snapshotHead(group), entity: 'xds-head', revision: head.revision, publishedAt: at, types },
          ConditionExpression: basedOn ? '#revision = :expected' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: basedOn ? { '#revision': 'revision' } : undefined,
          ExpressionAttributeValues: basedOn ? { ':expected': expected } : undefined,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError(`snapshot head of proxy group ${group}`, expected);
      throw storeFailure(error, this.table.tableName, `publish the snapshot of proxy group ${group}`);
    }
    return { outcome: 'published', head, chunksWritten };
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

  /** Write-once: true when this call created the chunk, false when it existed (with the same content, by its key). */
  private async putChunk(key: { pk: string; sk: string }, part: string, typeUrl: string): Promise<boolean> {
    try {
      await this.table.documents.send(
        new PutCommand({ TableName: this.table.tableName, Item: { ...key, entity: 'xds-chunk', part }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure(error, this.table.tableName, `write ${key.sk} of ${messageName(typeUrl)}`);
    }
  }

  /** Reads `wanted` into `parts` (by sort key); resolves with the keys DynamoDB does not have. */
  private async batchGet(wanted: readonly { pk: string; sk: string }[], consistent: boolean, parts: Map<string, string>, verb: string): Promise<{ pk: string; sk: string }[]> {
    const batches: { pk: string; sk: string }[][] = [];
    for (let i = 0; i < wanted.length; i += BATCH_KEYS) batches.push(wanted.slice(i, i + BATCH_KEYS));
    await mapConcurrently(batches, CONCURRENCY, async (batch) => {
      let pending: Record<string, unknown>[] = batch;
      // BatchGetItem answers what fits in one response (16 MB on DynamoDB, about 1 MB on the
      // embedded store) and hands back the rest: ask again at once while answers make progress;
      // back off, and give up after BATCH_ATTEMPTS, only when one returns nothing (throttling).
      for (let idle = 0; pending.length > 0; ) {
        if (idle >= BATCH_ATTEMPTS) throw new DependencyUnavailableError(`DynamoDB table ${this.table.tableName}`, `${verb}: keys left unprocessed`, { throttled: true });
        if (idle > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** idle));
        let answer;
        try {
          answer = await this.table.documents.send(new BatchGetCommand({ RequestItems: { [this.table.tableName]: { Keys: pending, ConsistentRead: consistent } } }));
        } catch (error) {
          throw storeFailure(error, this.table.tableName, verb);
        }
        const items = answer.Responses?.[this.table.tableName] ?? [];
        for (const item of items) parts.set(item['sk'] as string, item['part'] as string);
        pending = answer.UnprocessedKeys?.[this.table.tableName]?.Keys ?? [];
        idle = items.length > 0 ? 0 : idle + 1;
      }
    });
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
