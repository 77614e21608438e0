/**
 * NotificationOutbox on the one table (table.ts): `NOTIFY#<notification id>` / `<destination>`,
 * and while pending, on gsi2 under `OUTBOX` sorted by `<nextAttemptAt>#...`, so a dispatcher
 * reads what is due with one Query. Delivered and undelivered items leave the index (the gsi2
 * attributes are dropped) and expire after RETAIN_DAYS: long after any retry of their event.
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { NotificationOutbox, OutboxItem } from '../../ports/notification-outbox.js';
import { isConditionFailure, queryAll, storeFailure, type TableHandle } from './client.js';
import { indexes, keys, TTL_ATTRIBUTE } from './table.js';

const RETAIN_DAYS = 14;

export class DynamoDbNotificationOutbox implements NotificationOutbox {
  constructor(private readonly table: TableHandle) {}

  async enqueue(item: OutboxItem): Promise<'enqueued' | 'exists'> {
    try {
      await this.table.documents.send(new PutCommand({ TableName: this.table.tableName, Item: this.toItem(item), ConditionExpression: 'attribute_not_exists(pk)' }));
      return 'enqueued';
    } catch (error) {
      if (isConditionFailure(error)) return 'exists';
      throw storeFailure(error, this.table.tableName, `enqueue notification ${item.notification.id} for ${item.destination}`);
    }
  }

  async pending(limit: number): Promise<OutboxItem[]> {
    try {
      const answer = await this.table.documents.send(
        new QueryCommand({
          TableName: this.table.tableName,
          IndexName: indexes.all,
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.outboxPending },
          Limit: limit,
        }),
      );
      return (answer.Items ?? []).map((stored) => stored['item'] as OutboxItem);
    } catch (error) {
      throw storeFailure(error, this.table.tableName, 'list pending notifications');
    }
  }

  async replace(current: OutboxItem, next: OutboxItem): Promise<boolean> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: this.toItem(next),
          ConditionExpression: '#item.#status = :pending AND #item.attempts = :attempts',
          ExpressionAttributeNames: { '#item': 'item', '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':attempts': current.attempts },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure(error, this.table.tableName, `update notification ${current.notification.id} for ${current.destination}`);
    }
  }

  async itemsOf(notificationId: string): Promise<OutboxItem[]> {
    const items = await queryAll(this.table, { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.outboxItems(notificationId) }, ConsistentRead: true }, `read notification ${notificationId}`);
    return items.map((stored) => stored['item'] as OutboxItem);
  }

  /** Tests and operators: one item by its key. */
  async get(notificationId: string, destination: string): Promise<OutboxItem | undefined> {
    const answer = await this.table.documents.send(new GetCommand({ TableName: this.table.tableName, Key: keys.outboxItem(notificationId, destination), ConsistentRead: true }));
    return answer.Item?.['item'] as OutboxItem | undefined;
  }

  private toItem(item: OutboxItem): Record<string, unknown> {
    const key = keys.outboxItem(item.notification.id, item.destination);
    if (item.status === 'pending') return { ...key, entity: 'outbox', item, gsi2pk: keys.outboxPending, gsi2sk: `${item.nextAttemptAt}#${item.notification.id}#${item.destination}` };
    const finishedMs = Date.parse(item.finishedAt ?? item.nextAttemptAt);
    return { ...key, entity: 'outbox', item, [TTL_ATTRIBUTE]: Math.floor(finishedMs / 1000) + RETAIN_DAYS * 86400 };
  }
}
