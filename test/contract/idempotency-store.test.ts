/**
 * The IdempotencyStore contract (shared/ports/idempotency-store.ts), run against DynamoDB Local
 * and the embedded store.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { isTombstone, type IdempotencyRecord, type IdempotencyStore, type IdempotencyTombstone } from '../../shared/ports/idempotency-store.js';
import { makeDeployment, minutesAfterT0, T0 } from '../support/deployments.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';

function makeRecord(key: string, requestHash: string, createdAt: Date = T0): IdempotencyRecord {
  return {
    key,
    requestHash,
    deployment: makeDeployment({ reason: `request ${requestHash}` }, createdAt),
    createdAt: createdAt.toISOString(),
    expiresAtEpochSeconds: Math.floor(createdAt.getTime() / 1000) + 24 * 3600,
  };
}

describe.each(backendFactories)('IdempotencyStore on %s', (_name, startBackend) => {
  let backend: StoreBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  async function freshStore(): Promise<IdempotencyStore> {
    return createDynamoDbStores(await backend.freshTable()).idempotency;
  }

  /**
   * A store whose next conditional claim that loses is followed, before the claimer can read the
   * winner, by `meanwhile` (another request forgetting its claim): the window between the two calls.
   */
  async function storeWithGapAfterLostClaim(meanwhile: (store: IdempotencyStore) => Promise<void>): Promise<IdempotencyStore> {
    const table = await backend.freshTable();
    const plain = createDynamoDbStores(table).idempotency;
    let armed = true;
    const send = table.documents.send.bind(table.documents) as (command: unknown) => Promise<unknown>;
    const gapped: TableHandle = {
      tableName: table.tableName,
      documents: {
        send: async (command: unknown) => {
          try {
            return await send(command);
          } catch (error) {
            if (armed && command instanceof PutCommand && (error as Error).name === 'ConditionalCheckFailedException') {
              armed = false;
              await meanwhile(plain);
            }
            throw error;
          }
        },
      } as TableHandle['documents'],
    };
    return createDynamoDbStores(gapped).idempotency;
  }

  describe('claim', () => {
    it('lets the first claim of a key win with claimed: true, and stores its record', async () => {
      const store = await freshStore();
      const record = makeRecord('01HEXEC-stage-1', 'sha256:aaa');

      expect(await store.claim(record)).toEqual({ claimed: true, record });

      expect(await store.get(record.key)).toEqual(record);
    });

    it("answers a later claim of the key with the first claim's record and claimed: false, even when its record differs", async () => {
      const store = await freshStore();
      const first = makeRecord('01HEXEC-stage-1', 'sha256:aaa');
      const second = makeRecord('01HEXEC-stage-1', 'sha256:bbb', minutesAfterT0(5));
      await store.claim(first);

      expect(await store.claim(second)).toEqual({ claimed: false, record: first });

      expect(await store.get(first.key)).toEqual(first);
    });

    it("answers a replay of the winning claim with claimed: false and the same record (idempotent)", async () => {
      const store = await freshStore();
      const record = makeRecord('01HEXEC-stage-1', 'sha256:aaa');
      await store.claim(record);

      expect(await store.claim(record)).toEqual({ claimed: false, record });
      expect(await store.claim(record)).toEqual({ claimed: false, record });
    });

    it('keeps keys apart: a claim of one key never answers for another', async () => {
      const store = await freshStore();
      const one = makeRecord('exec-1-stage-1', 'sha256:aaa');
      // A key that extends the first: keys must match whole, not by prefix.
      const other = makeRecord('exec-1-stage-10', 'sha256:bbb');

      expect(await store.claim(one)).toEqual({ claimed: true, record: one });
      expect(await store.claim(other)).toEqual({ claimed: true, record: other });

      expect(await store.get(one.key)).toEqual(one);
      expect(await store.get(other.key)).toEqual(other);
    });
  });

  describe('get', () => {
    it('returns undefined for a key that was never used', async () => {
      const store = await freshStore();
      await store.claim(makeRecord('exec-1-stage-1', 'sha256:aaa'));

      expect(await store.get('exec-2-stage-1')).toBeUndefined();
    });
  });

  describe('forget', () => {
    it('deletes the record while it holds the deployment named; the key can then be claimed anew', async () => {
      const store = await freshStore();
      const refused = makeRecord('01HEXEC-stage-1', 'sha256:aaa');
      await store.claim(refused);

      await store.forget(refused.key, refused.deployment.id);

      expect(await store.get(refused.key)).toBeUndefined();
      const retry = makeRecord('01HEXEC-stage-1', 'sha256:aaa', minutesAfterT0(5));
      expect(await store.claim(retry)).toEqual({ claimed: true, record: retry });
    });

    it("leaves a record that holds another deployment: not the caller's to delete", async () => {
      const store = await freshStore();
      const record = makeRecord('01HEXEC-stage-1', 'sha256:aaa');
      await store.claim(record);

      await store.forget(record.key, makeDeployment().id);

      expect(await store.get(record.key)).toEqual(record);
    });

    it('is idempotent: forgetting twice, or a key never used, is a no-op', async () => {
      const store = await freshStore();
      const record = makeRecord('01HEXEC-stage-1', 'sha256:aaa');
      await store.claim(record);

      await store.forget(record.key, record.deployment.id);
      await store.forget(record.key, record.deployment.id);
      await store.forget('never-used', record.deployment.id);

      expect(await store.get(record.key)).toBeUndefined();
    });

    it('a claim that lost to a record forgotten before it could read it claims the key itself', async () => {
      const first = makeRecord('01HEXEC-stage-1', 'sha256:aaa');
      const store = await storeWithGapAfterLostClaim((other) => other.forget(first.key, first.deployment.id));
      await store.claim(first);
      const second = makeRecord('01HEXEC-stage-1', 'sha256:aaa', minutesAfterT0(1));

      expect(await store.claim(second)).toEqual({ claimed: true, record: second });

      expect(await store.get(second.key)).toEqual(second);
    });
  });

  describe('tombstones (a cancel by key that came before the creation)', () => {
    const tombstoneOf = (key: string): IdempotencyTombstone => ({ kind: 'canceled', key, canceledAt: T0.toISOString(), canceledBy: 'spinnaker', reason: 'Déploiement annulé', expiresAtEpochSeconds: Math.floor(T0.getTime() / 1000) + 3600 });

    it('a tombstone claims a free key; a creation claiming it after gets the tombstone, and get returns it', async () => {
      const store = await freshStore();
      const tombstone = tombstoneOf('01HEXEC-stage-1');
      expect(await store.claim(tombstone)).toEqual({ claimed: true, record: tombstone });

      expect(await store.claim(makeRecord(tombstone.key, 'sha256:aaa'))).toEqual({ claimed: false, record: tombstone });
      const stored = await store.get(tombstone.key);
      expect(stored).toEqual(tombstone);
      expect(isTombstone(stored!)).toBe(true);
    });

    it("a tombstone claiming a creation's key gets the creation's record; forget never deletes a tombstone", async () => {
      const store = await freshStore();
      const record = makeRecord('01HEXEC-stage-1', 'sha256:aaa');
      await store.claim(record);
      expect(await store.claim(tombstoneOf(record.key))).toEqual({ claimed: false, record });
      expect(isTombstone(record)).toBe(false);

      const other = tombstoneOf('01HEXEC-stage-2');
      await store.claim(other);
      await store.forget(other.key, record.deployment.id);
      expect(await store.get(other.key)).toEqual(other);
    });

    it('of a tombstone and a creation claiming one key at once, exactly one wins and both see it', async () => {
      const store = await freshStore();
      const tombstone = tombstoneOf('01HEXEC-stage-1');
      const record = makeRecord(tombstone.key, 'sha256:aaa');
      const [a, b] = await Promise.all([store.claim(tombstone), store.claim(record)]);
      expect([a.claimed, b.claimed].filter(Boolean)).toHaveLength(1);
      const winner = a.claimed ? tombstone : record;
      expect(a.record).toEqual(winner);
      expect(b.record).toEqual(winner);
      expect(await store.get(tombstone.key)).toEqual(winner);
    });
  });
});
