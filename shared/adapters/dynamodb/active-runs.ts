/** ActiveRuns on the one table: `RUNS` / `<deployment id>`, one small item per unfinished run (table.ts). */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ActiveRun, ActiveRuns } from '../../ports/active-runs.js';
import { isConditionFailure, queryAll, storeFailure, type TableHandle } from './client.js';
import { keys } from './table.js';

export class DynamoDbActiveRuns implements ActiveRuns {
  constructor(private readonly table: TableHandle) {}

  async mark(deploymentId: string, at: string): Promise<void> {
    try {
      // The latest mark's time stands (ports/active-runs.ts): a sweeper that judged the earlier one then leaves it.
      await this.table.documents.send(
        new PutCommand({ TableName: this.table.tableName, Item: { ...keys.activeRun(deploymentId), entity: 'active-run', deploymentId, markedAt: at } }),
      );
    } catch (error) {
      throw storeFailure(error, this.table.tableName, `mark run of ${deploymentId} active`);
    }
  }

  async unmark(deploymentId: string, ifMarkedAt?: string): Promise<void> {
    try {
      await this.table.documents.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: keys.activeRun(deploymentId),
          ...(ifMarkedAt === undefined ? {} : { ConditionExpression: 'markedAt = :at', ExpressionAttributeValues: { ':at': ifMarkedAt } }),
        }),
      );
    } catch (error) {
      // Marked again since (or already gone): not the mark the caller judged.
      if (ifMarkedAt !== undefined && isConditionFailure(error)) return;
      throw storeFailure(error, this.table.tableName, `unmark run of ${deploymentId}`);
    }
  }

  async list(): Promise<ActiveRun[]> {
    const items = await queryAll(this.table, { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.activeRuns }, ConsistentRead: true }, 'list active runs');
    return items.map((item) => ({ deploymentId: String(item['deploymentId']), markedAt: String(item['markedAt']) })).sort((a, b) => a.markedAt.localeCompare(b.markedAt));
  }
}
