/** AuditLog on the one table: `EVT#<subject>` / `<eventId>`, written once per event id. */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent, AuditLog } from '../../ports/audit-log.js';
import type { Page, PageRequest } from '../../ports/page.js';
import { isConditionFailure, isValidationFailure, storeFailure, type TableHandle } from './client.js';
import { decodeCursor, encodeCursor, invalidCursor } from './cursor.js';
import { keys } from './table.js';

export class DynamoDbAuditLog implements AuditLog {
  constructor(private readonly table: TableHandle) {}

  async append(event: AuditEvent): Promise<void> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { pk: keys.auditEvents(event.subject), sk: event.eventId, entity: 'audit', event },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return; // already recorded by an earlier attempt
      throw storeFailure(error, this.table.tableName, `append audit event ${event.subject} ${event.eventId}`);
    }
  }

  async list(subject: string, page: PageRequest): Promise<Page<AuditEvent>> {
    const fingerprint = `audit:${subject}`;
    const startKey = decodeCursor(fingerprint, page.cursor);
    try {
      const answer = await this.table.documents.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.auditEvents(subject) },
          ConsistentRead: true,
          Limit: page.limit,
          ExclusiveStartKey: startKey,
        }),
      );
      return {
        items: (answer.Items ?? []).map((item) => item['event'] as AuditEvent),
        nextCursor: encodeCursor(fingerprint, answer.LastEvaluatedKey),
      };
    } catch (error) {
      if (page.cursor !== undefined && isValidationFailure(error)) throw invalidCursor();
      throw storeFailure(error, this.table.tableName, `list audit events of ${subject}`);
    }
  }
}
