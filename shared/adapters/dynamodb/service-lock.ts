/**
 * ServiceLockStore on the one table: `LOCK#<service>`. A holder's renewal is one conditional
 * UpdateItem that extends the lease and keeps the fencing token; taking the lock (free, or its
 * lease expired) is another that bumps the token in the same write. Release clears the owner but
 * keeps the item, so the fencing token keeps growing across releases (a deleted item would restart it at 1).
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../domain/errors.js';
import type { LockGrant, LockRequest, ServiceLockStore } from '../../ports/service-lock.js';
import { isConditionFailure, storeFailure, type TableHandle } from './client.js';
import { keys } from './table.js';

interface LockItem {
  service: string;
  owner: string;
  leaseExpiresAtMs: number;
  fencingToken: number;
}

export class DynamoDbServiceLockStore implements ServiceLockStore {
  constructor(private readonly table: TableHandle) {}

  async acquire(request: LockRequest): Promise<LockGrant> {
    // Most calls are a run renewing its own lock: try that first, then taking it. The take fails too
    // when a concurrent acquire of the same owner (a creation and its replay) took the lock between
    // the two writes: the second round's renewal is then granted. Only another owner is a conflict.
    for (let round = 1; round <= 2; round++) {
      const grant = (await this.renew(request)) ?? (await this.take(request));
      if (grant) return grant;
    }
    const holder = await this.get(request.service);
    throw new ConflictError(
      `service ${request.service} is locked by ${holder?.owner ?? 'another holder'} until ${holder?.leaseExpiresAt ?? 'its lease ends'}`,
      holder?.owner,
    );
  }

  private renew(request: LockRequest): Promise<LockGrant | undefined> {
    return this.conditionalUpdate(request, 'SET #lease = :lease', '#owner = :owner', { ':owner': request.owner, ':lease': request.now.getTime() + request.leaseMs }, ['#owner', '#lease']);
  }

  private take(request: LockRequest): Promise<LockGrant | undefined> {
    const nowMs = request.now.getTime();
    return this.conditionalUpdate(
      request,
      'SET #service = :service, #owner = :owner, #lease = :lease, #entity = :entity ADD #fencing :one',
      'attribute_not_exists(#owner) OR #lease <= :now',
      { ':service': request.service, ':owner': request.owner, ':lease': nowMs + request.leaseMs, ':now': nowMs, ':one': 1, ':entity': 'lock' },
      ['#service', '#owner', '#lease', '#fencing', '#entity'],
    );
  }

  /** The grant after the write, or undefined when its condition failed. */
  private async conditionalUpdate(request: LockRequest, update: string, condition: string, values: Record<string, unknown>, names: string[]): Promise<LockGrant | undefined> {
    const allNames: Record<string, string> = { '#service': 'service', '#owner': 'owner', '#lease': 'leaseExpiresAtMs', '#fencing': 'fencingToken', '#entity': 'entity' };
    try {
      const { Attributes } = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.lock(request.service),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: Object.fromEntries(names.map((name) => [name, allNames[name]!])),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toGrant(Attributes as LockItem);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw storeFailure(error, this.table.tableName, `lock service ${request.service}`);
    }
  }

  async release(service: string, owner: string): Promise<'released' | 'not-held'> {
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.lock(service),
          UpdateExpression: 'REMOVE #owner, #lease',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner', '#lease': 'leaseExpiresAtMs' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      return 'released';
    } catch (error) {
      if (isConditionFailure(error)) return 'not-held';
      throw storeFailure(error, this.table.tableName, `unlock service ${service}`);
    }
  }

  async get(service: string): Promise<LockGrant | undefined> {
    try {
      const { Item } = await this.table.documents.send(
        new GetCommand({ TableName: this.table.tableName, Key: keys.lock(service), ConsistentRead: true }),
      );
      return Item?.['owner'] !== undefined ? toGrant(Item as LockItem) : undefined; // no owner: released
    } catch (error) {
      throw storeFailure(error, this.table.tableName, `read lock of service ${service}`);
    }
  }
}

function toGrant(item: LockItem): LockGrant {
  return {
    service: item.service,
    owner: item.owner,
    leaseExpiresAt: new Date(item.leaseExpiresAtMs).toISOString(),
    fencingToken: item.fencingToken,
  };
}
