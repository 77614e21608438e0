/** IdempotencyStore on the one table: `IDEM#<key>` (a creation's record or a tombstone), expired by DynamoDB TTL. */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ClaimOutcome, IdempotencyEntry, IdempotencyStore } from '../../ports/idempotency-store.js';
import { isConditionFailure, storeFailure, type TableHandle } from './client.js';
import { keys, TTL_ATTRIBUTE } from './table.js';

export class DynamoDbIdempotencyStore implements IdempotencyStore {
  constructor(private readonly table: TableHandle) {}

  async claim<T extends IdempotencyEntry>(record: T): Promise<ClaimOutcome<T>> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.idempotency(record.key), entity: 'idempotency', [TTL_ATTRIBUTE]: record.expiresAtEpochSeconds, record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { claimed: true, record };
    } catch (error) {
      if (!isConditionFailure(error)) throw storeFailure(error, this.table.tableName, `claim idempotency key ${record.key}`);
    }
    // Lost the race (or a replay): the winner's record is there, read it strongly consistently.
    // (ReturnValuesOnConditionCheckFailure would save this read, but the embedded store ignores it.)
    const winner = await this.get(record.key);
    if (!winner) return this.claim(record); // forgotten (forget: a refused creation) between our write and this read: claim again
    return { claimed: false, record: winner };
  }

  async get(key: string): Promise<IdempotencyEntry | undefined> {
    try {
      const { Item } = await this.table.documents.send(
        new GetCommand({ TableName: this.table.tableName, Key: keys.idempotency(key), ConsistentRead: true }),
      );
      return Item ? (Item['record'] as IdempotencyEntry) : undefined;
    } catch (error) {
      throw storeFailure(error, this.table.tableName, `read idempotency key ${key}`);
    }
  }

  async forget(key: string, deploymentId: string): Promise<void> {
    try {
      await this.table.documents.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: keys.idempotency(key),
          ConditionExpression: '#record.#deployment.#id = :id',
          ExpressionAttributeNames: { '#record': 'record', '#deployment': 'deployment', '#id': 'id' },
          ExpressionAttributeValues: { ':id': deploymentId },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return; // gone already, or another deployment's: not ours to delete
      throw storeFailure(error, this.table.tableName, `forget idempotency key ${key}`);
    }
  }
}
