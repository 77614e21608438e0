/**
 * Write-once items that expire once no HEAD names them (the xDS chunks of snapshot-store.ts and the
 * parts and buckets of part-store.ts; snapshot-store.ts's comment says why TTL, and why the guard):
 * a publish *claims* an item for the HEAD revision it is about to write (expiry removed), and an
 * item superseded at a revision is *marked* to expire only while no HEAD from that revision on has
 * claimed it. HEAD revisions form one chain, so a stale mark is refused by the item itself.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, storeFailure, type ItemKey, type TableHandle } from './client.js';
import { TTL_ATTRIBUTE } from './table.js';

/** True when the item exists and now carries `revision` and no expiry; false when it does not exist or a later revision claimed it. */
export async function claimItem(table: TableHandle, key: ItemKey, revision: number): Promise<boolean> {
  try {
    await table.documents.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: key,
        UpdateExpression: 'SET #claim = :revision REMOVE #ttl',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#claim) OR #claim <= :revision)',
        ExpressionAttributeNames: { '#claim': 'claimRevision', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':revision': revision },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw storeFailure(error, table.tableName, `claim ${key.sk} of ${key.pk}`);
  }
}

/**
 * Sets the item's expiry unless it has one (a second mark does not push it back), only while no
 * HEAD from `supersededAt` on has claimed it, and never recreating an item already deleted (that,
 * or a later claim, is a refused condition: nothing to mark).
 */
export async function markItemToExpire(table: TableHandle, key: ItemKey, supersededAt: number, expiresAt: number): Promise<void> {
  try {
    await table.documents.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: key,
        UpdateExpression: 'SET #ttl = if_not_exists(#ttl, :expiresAt)',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#claim) OR #claim < :supersededAt)',
        ExpressionAttributeNames: { '#claim': 'claimRevision', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':expiresAt': expiresAt, ':supersededAt': supersededAt },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) return;
    throw storeFailure(error, table.tableName, `mark ${key.sk} of ${key.pk} to expire`);
  }
}
