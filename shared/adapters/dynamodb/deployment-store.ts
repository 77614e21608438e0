/** DeploymentStore on the one table (key design in table.ts). */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { initialRunState, statusOf, type Deployment, type DeploymentStatus, type Phase, type RetryNote } from '../../domain/deployment.js';
import { VersionConflictError } from '../../domain/errors.js';
import type { DeploymentQuery, DeploymentStore } from '../../ports/deployment-store.js';
import type { Page } from '../../ports/page.js';
import { isConditionFailure, isValidationFailure, storeFailure, type TableHandle } from './client.js';
import { decodeCursor, encodeCursor, invalidCursor } from './cursor.js';
import { indexes, keys } from './table.js';

const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'entity', 'status'] as const;

export class DynamoDbDeploymentStore implements DeploymentStore {
  constructor(private readonly table: TableHandle) {}

  async createIfAbsent(deployment: Deployment): Promise<'created' | 'exists'> {
    try {
      await this.table.documents.send(
        new PutCommand({ TableName: this.table.tableName, Item: toItem(deployment), ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return 'created';
    } catch (error) {
      if (isConditionFailure(error)) return 'exists';
      throw storeFailure(error, this.table.tableName, `create deployment ${deployment.id}`);
    }
  }

  async get(id: string): Promise<Deployment | undefined> {
    try {
      const { Item } = await this.table.documents.send(
        new GetCommand({ TableName: this.table.tableName, Key: keys.deployment(id), ConsistentRead: true }),
      );
      return Item ? fromItem(Item) : undefined;
    } catch (error) {
      throw storeFailure(error, this.table.tableName, `read deployment ${id}`);
    }
  }

  async update(next: Deployment): Promise<void> {
    const expectedVersion = next.version - 1;
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: toItem(next),
          ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError(`deployment ${next.id}`, expectedVersion);
      throw storeFailure(error, this.table.tableName, `update deployment ${next.id}`);
    }
  }

  async noteRetry(id: string, note: RetryNote): Promise<void> {
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.deployment(id),
          UpdateExpression: 'SET #retrying = :note',
          ConditionExpression: 'attribute_exists(pk) AND #version = :version',
          ExpressionAttributeNames: { '#retrying': 'retrying', '#version': 'version' },
          ExpressionAttributeValues: { ':note': note, ':version': note.atVersion },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      throw storeFailure(error, this.table.tableName, `note a retry of deployment ${id}`);
    }
  }

  async deleteUnstarted(id: string): Promise<'deleted' | 'started' | 'absent'> {
    try {
      await this.table.documents.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: keys.deployment(id),
          ConditionExpression: 'attribute_exists(pk) AND #version = :first',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':first': 1 },
        }),
      );
      return 'deleted';
    } catch (error) {
      if (!isConditionFailure(error)) throw storeFailure(error, this.table.tableName, `delete unstarted deployment ${id}`);
      return (await this.get(id)) ? 'started' : 'absent';
    }
  }

  async list(query: DeploymentQuery): Promise<Page<Deployment>> {
    const fingerprint = `deployments:${query.service ?? '*'}:${query.status ?? '*'}`;
    let startKey = decodeCursor(fingerprint, query.cursor);
    const items: Deployment[] = [];
    // A status filter is applied after DynamoDB reads a page, so one read may return fewer items
    // than asked; keep reading (bounded) until the page is full or the index is exhausted.
    for (let reads = 0; reads < 10; reads++) {
      const input = this.listQuery(query, query.limit - items.length, startKey);
      let answer;
      try {
        answer = await this.table.documents.send(new QueryCommand(input));
      } catch (error) {
        // Only the first read starts from a caller's key; DynamoDB itself hands out the rest.
        if (reads === 0 && query.cursor !== undefined && isValidationFailure(error)) throw invalidCursor();
        throw storeFailure(error, this.table.tableName, 'list deployments');
      }
      items.push(...(answer.Items ?? []).map(fromItem));
      startKey = answer.LastEvaluatedKey;
      if (!startKey || items.length >= query.limit) break;
    }
    return { items, nextCursor: encodeCursor(fingerprint, startKey) };
  }

  private listQuery(query: DeploymentQuery, limit: number, startKey: Record<string, unknown> | undefined): QueryCommandInput {
    const byService = query.service !== undefined;
    const input: QueryCommandInput = {
      TableName: this.table.tableName,
      IndexName: byService ? indexes.byService : indexes.all,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': byService ? 'gsi1pk' : 'gsi2pk' },
      ExpressionAttributeValues: { ':pk': byService ? keys.deploymentsOfService(query.service!) : keys.allDeployments },
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: startKey,
    };
    if (query.status) {
      input.FilterExpression = '#status = :status';
      input.ExpressionAttributeNames!['#status'] = 'status';
      input.ExpressionAttributeValues![':status'] = query.status;
    }
    return input;
  }
}

function toItem(d: Deployment): Record<string, unknown> {
  const sort = keys.deploymentSort(d.createdAt, d.id);
  return {
    ...keys.deployment(d.id),
    gsi1pk: keys.deploymentsOfService(d.service),
    gsi1sk: sort,
    gsi2pk: keys.allDeployments,
    gsi2sk: sort,
    entity: 'deployment',
    // Denormalised from phase so listings can filter on it server-side.
    status: statusOf(d.phase) satisfies DeploymentStatus,
    ...d,
  };
}

function fromItem(item: Record<string, unknown>): Deployment {
  const copy: Record<string, unknown> = { ...item };
  for (const attribute of KEY_ATTRIBUTES) delete copy[attribute];
  const deployment = copy as unknown as Deployment;
  // Deployments stored by an earlier release lack the run fields added since.
  const { gateToken: _legacy, ...run } = { ...initialRunState, ...deployment.run } as Deployment['run'] & { gateToken?: unknown };
  return { ...deployment, phase: deployment.phase as Phase, run };
}
