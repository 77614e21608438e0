/** ReconcileRuns on the one table: `RECONCILE#<id>` / `RUN` per run, `RECONCILE` / `ACTIVE` for the run under way (table.ts). */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../../domain/errors.js';
import type { ReconcileRun } from '../../domain/reconcile-run.js';
import type { ReconcileRuns } from '../../ports/reconcile-runs.js';
import { isConditionFailure, storeFailure, type TableHandle } from './client.js';
import { keys } from './table.js';

export class DynamoDbReconcileRuns implements ReconcileRuns {
  constructor(private readonly table: TableHandle) {}

  async get(id: string): Promise<ReconcileRun | undefined> {
    const item = await this.getItem(keys.reconcileRun(id), `read reconcile run ${id}`);
    return item ? (item['run'] as ReconcileRun) : undefined;
  }

  async create(run: ReconcileRun): Promise<'created' | 'existed'> {
    try {
      await this.put({ ...keys.reconcileRun(run.id), entity: 'reconcile-run', revision: run.revision, run }, 'attribute_not_exists(pk)');
      return 'created';
    } catch (error) {
      if (isConditionFailure(error)) return 'existed';
      throw storeFailure(error, this.table.tableName, `create reconcile run ${run.id}`);
    }
  }

  async update(run: ReconcileRun): Promise<void> {
    try {
      await this.put({ ...keys.reconcileRun(run.id), entity: 'reconcile-run', revision: run.revision, run }, 'attribute_exists(pk) AND revision = :expected', { ':expected': run.revision - 1 });
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError(`reconcile run ${run.id}`, run.revision - 1);
      throw storeFailure(error, this.table.tableName, `record reconcile run ${run.id}`);
    }
  }

  async claimActive(id: string): Promise<string> {
    try {
      await this.put({ ...keys.activeReconcileRun, entity: 'reconcile-active', runId: id }, 'attribute_not_exists(pk) OR runId = :id', { ':id': id });
      return id;
    } catch (error) {
      if (!isConditionFailure(error)) throw storeFailure(error, this.table.tableName, `claim the reconcile slot for ${id}`);
    }
    // Held by another run; if it was freed in between, the caller's next claim gets it.
    return (await this.active()) ?? this.claimActive(id);
  }

  async active(): Promise<string | undefined> {
    const item = await this.getItem(keys.activeReconcileRun, 'read the reconcile run under way');
    return item ? String(item['runId']) : undefined;
  }

  async releaseActive(id: string): Promise<void> {
    try {
      await this.table.documents.send(
        new DeleteCommand({ TableName: this.table.tableName, Key: keys.activeReconcileRun, ConditionExpression: 'runId = :id', ExpressionAttributeValues: { ':id': id } }),
      );
    } catch (error) {
      // Already free, or another run's: nothing of ours to free.
      if (isConditionFailure(error)) return;
      throw storeFailure(error, this.table.tableName, `free the reconcile slot of ${id}`);
    }
  }

  private async getItem(key: Record<string, string>, verb: string): Promise<Record<string, unknown> | undefined> {
    try {
      const answer = await this.table.documents.send(new GetCommand({ TableName: this.table.tableName, Key: key, ConsistentRead: true }));
      return answer.Item;
    } catch (error) {
      throw storeFailure(error, this.table.tableName, verb);
    }
  }

  private async put(item: Record<string, unknown>, condition: string, values?: Record<string, unknown>): Promise<void> {
    await this.table.documents.send(new PutCommand({ TableName: this.table.tableName, Item: item, ConditionExpression: condition, ExpressionAttributeValues: values }));
  }
}
