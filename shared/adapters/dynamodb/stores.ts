/** Every store port on one table, and the table's creation for local and test stacks. */
import { CreateTableCommand, DescribeTableCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { ActiveRuns } from '../../ports/active-runs.js';
import type { AuditLog } from '../../ports/audit-log.js';
import type { CanarySlots } from '../../ports/canary-slots.js';
import type { DeploymentStore } from '../../ports/deployment-store.js';
import type { IdempotencyStore } from '../../ports/idempotency-store.js';
import type { MeshRegistry } from '../../ports/mesh-registry.js';
import type { ReconcileRuns } from '../../ports/reconcile-runs.js';
import type { PartStore } from '../../ports/part-store.js';
import type { ServiceLockStore } from '../../ports/service-lock.js';
import type { SnapshotStore } from '../../ports/snapshot-store.js';
import { DynamoDbActiveRuns } from './active-runs.js';
import { DynamoDbAuditLog } from './audit-log.js';
import { DynamoDbCanarySlots } from './canary-slots.js';
import { storeFailure, type TableHandle } from './client.js';
import { DynamoDbDeploymentStore } from './deployment-store.js';
import { DynamoDbIdempotencyStore } from './idempotency-store.js';
import { DynamoDbMeshRegistry } from './mesh-registry.js';
import { DynamoDbNotificationOutbox } from './notification-outbox.js';
import { DynamoDbReconcileRuns } from './reconcile-runs.js';
import { DynamoDbPartStore } from './part-store.js';
import { DynamoDbServiceLockStore } from './service-lock.js';
import { DynamoDbSnapshotStore } from './snapshot-store.js';
import { tableDefinition, TTL_ATTRIBUTE } from './table.js';

export interface Stores {
  deployments: DeploymentStore;
  idempotency: IdempotencyStore;
  audit: AuditLog;
  locks: ServiceLockStore;
  registry: MeshRegistry;
  /** The acknowledgements proxies report (and the whole-snapshot chunk layout, which nothing publishes to any more). */
  snapshots: SnapshotStore;
  /** The published snapshots, per service (ports/part-store.ts). */
  parts: PartStore;
  activeRuns: ActiveRuns;
  slots: CanarySlots;
  outbox: DynamoDbNotificationOutbox;
  reconcileRuns: ReconcileRuns;
}

export function createDynamoDbStores(table: TableHandle): Stores {
  return {
    deployments: new DynamoDbDeploymentStore(table),
    idempotency: new DynamoDbIdempotencyStore(table),
    audit: new DynamoDbAuditLog(table),
    locks: new DynamoDbServiceLockStore(table),
    registry: new DynamoDbMeshRegistry(table),
    snapshots: new DynamoDbSnapshotStore(table),
    parts: new DynamoDbPartStore(table),
    activeRuns: new DynamoDbActiveRuns(table),
    slots: new DynamoDbCanarySlots(table),
    outbox: new DynamoDbNotificationOutbox(table),
    reconcileRuns: new DynamoDbReconcileRuns(table),
  };
}

/**
 * Creates the table if it is missing and waits until it is ACTIVE. Only for the local stack and
 * tests: in AWS the table belongs to CloudFormation (serverless.yml) and functions never create it.
 */
export async function ensureTable(table: TableHandle, timeoutMs = 30_000): Promise<'created' | 'existed'> {
  const client = table.documents;
  let outcome: 'created' | 'existed' = 'existed';
  try {
    await client.send(new CreateTableCommand(tableDefinition(table.tableName)));
    outcome = 'created';
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw storeFailure(error, table.tableName, 'create table');
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table.tableName }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesReady) break;
    if (Date.now() > deadline) throw storeFailure(new Error(`not ACTIVE after ${timeoutMs} ms`), table.tableName, 'create table');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (outcome === 'created') await enableTtl(table);
  return outcome;
}

async function enableTtl(table: TableHandle): Promise<void> {
  try {
    await table.documents.send(
      new UpdateTimeToLiveCommand({ TableName: table.tableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }),
    );
  } catch (error) {
    // The embedded store (dynalite) has no TTL: records then live until deleted, which is harmless.
    if (!(error instanceof Error && /UnknownOperation/.test(error.name))) throw storeFailure(error, table.tableName, 'enable TTL');
  }
}
