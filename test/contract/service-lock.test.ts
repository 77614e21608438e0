/**
 * The ServiceLockStore contract (shared/ports/service-lock.ts), run against DynamoDB Local and the
 * embedded store. Time is passed in (`now`), so lease expiry is tested without waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { ConflictError } from '../../shared/domain/errors.js';
import type { ServiceLockStore } from '../../shared/ports/service-lock.js';
import { T0 } from '../support/deployments.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';
import { rejectionOf } from '../support/errors.js';

const LEASE_MS = 60_000;
const A = 'dep_OWNERA0000000000000000000';
const B = 'dep_OWNERB0000000000000000000';

const after = (ms: number) => new Date(T0.getTime() + ms);

/** The error a promise rejects with; fails the test when it resolves. */

function expectHeldBy(error: unknown, holder: string): void {
  expect(error).toBeInstanceOf(ConflictError);
  expect(error).toMatchObject({ name: 'ConflictError', holder });
  expect((error as Error).message).toContain(holder);
}

describe.each(backendFactories)('ServiceLockStore on %s', (_name, startBackend) => {
  let backend: StoreBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  async function freshLocks(): Promise<ServiceLockStore> {
    return createDynamoDbStores(await backend.freshTable()).locks;
  }

  describe('acquire', () => {
    it('grants a free lock, with a lease of leaseMs from now, and get returns the grant', async () => {
      const locks = await freshLocks();

      const grant = await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });

      expect(grant).toEqual({ service: 'checkout', owner: A, leaseExpiresAt: after(LEASE_MS).toISOString(), fencingToken: expect.any(Number) });
      expect(await locks.get('checkout')).toEqual(grant);
    });

    it('renews when the holder acquires again: the lease is extended and the fencing token kept (the holder never lost it)', async () => {
      const locks = await freshLocks();
      const first = await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });

      const renewed = await locks.acquire({ service: 'checkout', owner: A, now: after(10_000), leaseMs: LEASE_MS });
      // Even after its lease ran out, while nobody else took it.
      const late = await locks.acquire({ service: 'checkout', owner: A, now: after(10_000 + LEASE_MS + 5), leaseMs: LEASE_MS });

      expect(renewed.owner).toBe(A);
      expect(renewed.leaseExpiresAt).toBe(after(10_000 + LEASE_MS).toISOString());
      expect(renewed.fencingToken).toBe(first.fencingToken);
      expect(late.fencingToken).toBe(first.fencingToken);
      expect(await locks.get('checkout')).toEqual(late);
    });

    it('a holder that lost the lock in between gets it back only with a larger token (taken, released, taken again)', async () => {
      const locks = await freshLocks();
      const first = await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });
      const other = await locks.acquire({ service: 'checkout', owner: B, now: after(LEASE_MS + 1), leaseMs: LEASE_MS });
      await locks.release('checkout', B);

      const again = await locks.acquire({ service: 'checkout', owner: A, now: after(LEASE_MS + 2), leaseMs: LEASE_MS });

      expect(other.fencingToken).toBeGreaterThan(first.fencingToken);
      expect(again.fencingToken).toBeGreaterThan(other.fencingToken);
    });

    it('refuses another owner while the lease runs, with ConflictError naming the holder, and changes nothing', async () => {
      const locks = await freshLocks();
      const grant = await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });

      expectHeldBy(await rejectionOf(locks.acquire({ service: 'checkout', owner: B, now: after(1), leaseMs: LEASE_MS })), A);
      // One millisecond before the lease ends it still runs.
      expectHeldBy(await rejectionOf(locks.acquire({ service: 'checkout', owner: B, now: after(LEASE_MS - 1), leaseMs: LEASE_MS })), A);

      expect(await locks.get('checkout')).toEqual(grant);
    });

    it('lets another owner take over once the lease has expired (now >= leaseExpiresAt), with a larger fencing token', async () => {
      const locks = await freshLocks();
      const stale = await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });

      const takeover = await locks.acquire({ service: 'checkout', owner: B, now: new Date(stale.leaseExpiresAt), leaseMs: LEASE_MS });

      expect(takeover).toEqual({
        service: 'checkout',
        owner: B,
        leaseExpiresAt: after(2 * LEASE_MS).toISOString(),
        fencingToken: expect.any(Number),
      });
      expect(takeover.fencingToken).toBeGreaterThan(stale.fencingToken);
      expect(await locks.get('checkout')).toEqual(takeover);
      // The former holder is now the one refused.
      expectHeldBy(await rejectionOf(locks.acquire({ service: 'checkout', owner: A, now: after(LEASE_MS + 1), leaseMs: LEASE_MS })), B);
    });

    it('grows the fencing token across a release: the next grant is told apart from the last', async () => {
      const locks = await freshLocks();
      const first = await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });
      await locks.release('checkout', A);

      const next = await locks.acquire({ service: 'checkout', owner: B, now: after(1_000), leaseMs: LEASE_MS });

      expect(next.owner).toBe(B);
      expect(next.fencingToken).toBeGreaterThan(first.fencingToken);
    });

    it('concurrent acquires by one owner are all granted, with one fencing token (a creation and its replays)', async () => {
      const locks = await freshLocks();

      const grants = await Promise.all(Array.from({ length: 30 }, () => locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS })));

      expect(new Set(grants.map((g) => `${g.owner}#${g.fencingToken}`)).size).toBe(1);
      expect(await locks.get('checkout')).toMatchObject({ owner: A, fencingToken: grants[0]!.fencingToken });
    });

    it('locks each service separately', async () => {
      const locks = await freshLocks();
      const checkout = await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });

      const payments = await locks.acquire({ service: 'payments', owner: B, now: T0, leaseMs: LEASE_MS });

      expect(payments.owner).toBe(B);
      expect(await locks.get('checkout')).toEqual(checkout);
      expect(await locks.get('payments')).toEqual(payments);
    });
  });

  describe('release', () => {
    it("releases the owner's lock ('released'), then answers 'not-held' (idempotent), and get is undefined", async () => {
      const locks = await freshLocks();
      await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });

      expect(await locks.release('checkout', A)).toBe('released');
      expect(await locks.release('checkout', A)).toBe('not-held');

      expect(await locks.get('checkout')).toBeUndefined();
    });

    it("answers 'not-held' to a non-owner and leaves the lock held", async () => {
      const locks = await freshLocks();
      const grant = await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });

      expect(await locks.release('checkout', B)).toBe('not-held');

      expect(await locks.get('checkout')).toEqual(grant);
      expectHeldBy(await rejectionOf(locks.acquire({ service: 'checkout', owner: B, now: after(1), leaseMs: LEASE_MS })), A);
    });

    it("answers 'not-held' for a lock nobody ever held", async () => {
      const locks = await freshLocks();

      expect(await locks.release('checkout', A)).toBe('not-held');
      expect(await locks.get('checkout')).toBeUndefined();
    });

    it('lets anyone acquire a released lock at once, without waiting for the old lease', async () => {
      const locks = await freshLocks();
      await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });
      await locks.release('checkout', A);

      const grant = await locks.acquire({ service: 'checkout', owner: B, now: after(1), leaseMs: LEASE_MS });

      expect(grant.owner).toBe(B);
      expect(await locks.get('checkout')).toEqual(grant);
    });
  });

  describe('get', () => {
    it('returns undefined for a service whose lock nobody ever held', async () => {
      const locks = await freshLocks();
      await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: LEASE_MS });

      expect(await locks.get('payments')).toBeUndefined();
    });

    it('returns the grant even after its lease has expired', async () => {
      const locks = await freshLocks();
      const grant = await locks.acquire({ service: 'checkout', owner: A, now: T0, leaseMs: 1 });

      expect(await locks.get('checkout')).toEqual(grant);
    });
  });
});
