/**
 * CanarySlots on the one table: `CAPS` / `CAP#<scope key>`, one item per cap scope holding its
 * holders as a map `holders.<deployment id> = claimedAt` (table.ts). A claim is one conditional
 * UpdateItem on that item, `attribute_exists(holders.#id) OR size(holders) < :max`, so the count
 * and the write are one atomic step; the first claim of a scope creates its item with a
 * conditional put. A release removes the holder's key.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CanarySlots, CapScopeSlots, SlotClaim, SlotHolder } from '../../ports/canary-slots.js';
import { isConditionFailure, queryAll, storeFailure, type TableHandle } from './client.js';
import { keys } from './table.js';

/** A refused claim reads the scope; a release in between may have made room, so it tries again, this many times at most. */
const CLAIM_ATTEMPTS = 5;

export class DynamoDbCanarySlots implements CanarySlots {
  constructor(private readonly table: TableHandle) {}

  async claim(scopeKey: string, holder: string, max: number, at: string): Promise<SlotClaim> {
    let holders: SlotHolder[] = [];
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      if (await this.claimInExisting(scopeKey, holder, max, at)) return { claimed: true };
      const current = await this.read(scopeKey);
      if (current === undefined) {
        if (await this.createWith(scopeKey, holder, at)) return { claimed: true };
        continue; // another creation made the item first: claim in it
      }
      holders = current;
      if (current.length >= max) break;
    }
    return { claimed: false, holders };
  }

  async release(scopeKey: string, holder: string, ifClaimedAt?: string): Promise<void> {
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.capScope(scopeKey),
          UpdateExpression: 'REMOVE #holders.#id',
          // Without the condition a release of an absent scope would create an empty item.
          ConditionExpression: ifClaimedAt === undefined ? 'attribute_exists(#holders.#id)' : '#holders.#id = :at',
          ExpressionAttributeNames: { '#holders': 'holders', '#id': holder },
          ...(ifClaimedAt === undefined ? {} : { ExpressionAttributeValues: { ':at': ifClaimedAt } }),
        }),
      );
    } catch (error) {
      // Not held (released already), or claimed again since: nothing of the caller's to release.
      if (isConditionFailure(error)) return;
      throw storeFailure(error, this.table.tableName, `release ${holder}'s slot in ${scopeKey}`);
    }
  }

  async holders(scopeKey: string): Promise<SlotHolder[]> {
    return (await this.read(scopeKey)) ?? [];
  }

  async scopes(): Promise<CapScopeSlots[]> {
    const items = await queryAll(this.table, { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.capScopes }, ConsistentRead: true }, 'list cap scopes');
    return items.map((item) => ({ scopeKey: String(item['scopeKey']), holders: holdersOf(item) }));
  }

  /** True when claimed; false when the scope is full, or has no item yet. */
  private async claimInExisting(scopeKey: string, holder: string, max: number, at: string): Promise<boolean> {
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.capScope(scopeKey),
          UpdateExpression: 'SET #holders.#id = :at',
          ConditionExpression: 'attribute_exists(#holders.#id) OR size(#holders) < :max',
          ExpressionAttributeNames: { '#holders': 'holders', '#id': holder },
          ExpressionAttributeValues: { ':at': at, ':max': max },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure(error, this.table.tableName, `claim a slot in ${scopeKey} for ${holder}`);
    }
  }

  /** The scope's first claim; false when another made the item first. */
  private async createWith(scopeKey: string, holder: string, at: string): Promise<boolean> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.capScope(scopeKey), entity: 'cap-scope', scopeKey, holders: { [holder]: at } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeFailure(error, this.table.tableName, `claim the first slot in ${scopeKey} for ${holder}`);
    }
  }

  private async read(scopeKey: string): Promise<SlotHolder[] | undefined> {
    try {
      const { Item } = await this.table.documents.send(new GetCommand({ TableName: this.table.tableName, Key: keys.capScope(scopeKey), ConsistentRead: true }));
      return Item ? holdersOf(Item) : undefined;
    } catch (error) {
      throw storeFailure(error, this.table.tableName, `read the slots of ${scopeKey}`);
    }
  }
}

function holdersOf(item: Record<string, unknown>): SlotHolder[] {
  const map = (item['holders'] ?? {}) as Record<string, string>;
  return Object.entries(map)
    .map(([holder, claimedAt]) => ({ holder, claimedAt: String(claimedAt) }))
    .sort((a, b) => a.claimedAt.localeCompare(b.claimedAt) || a.holder.localeCompare(b.holder));
}
