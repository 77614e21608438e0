/**
 * Concurrent writers against DynamoDB Local (the real engine's conditional-write semantics, not an
 * emulation of them): no lost update, one lock holder, one idempotency winner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores, type Stores } from '../../shared/adapters/dynamodb/stores.js';
import { revise, type Deployment } from '../../shared/domain/deployment.js';
import { ConflictError, VersionConflictError } from '../../shared/domain/errors.js';
import type { IdempotencyRecord } from '../../shared/ports/idempotency-store.js';
import { makeDeployment, minutesAfterT0, T0 } from '../support/deployments.js';
import { dynamoDbLocalBackend, scanTable, type StoreBackend } from '../support/store-backends.js';

const WORKERS = 20;
const LEASE_MS = 60_000;

/** Worker `n`'s increment: its number appended to `result.appliedBy`, as one new version. */
function withMarker(current: Deployment, n: number): Deployment {
  const appliedBy = (current.result?.['appliedBy'] as number[] | undefined) ?? [];
  return revise(current, { result: { appliedBy: [...appliedBy, n] } }, minutesAfterT0(1));
}

function appliedBy(deployment: Deployment | undefined): number[] {
  return [...((deployment?.result?.['appliedBy'] as number[] | undefined) ?? [])].sort((a, b) => a - b);
}

describe('store races on DynamoDB Local', () => {
  let backend: StoreBackend;

  beforeAll(async () => {
    backend = await dynamoDbLocalBackend();
  });
  afterAll(() => backend.stop());

  async function freshStores(): Promise<{ table: TableHandle; stores: Stores }> {
    const table = await backend.freshTable();
    return { table, stores: createDynamoDbStores(table) };
  }

  describe('version-guarded deployment updates', () => {
    it(`loses no update: ${WORKERS} workers that re-read and retry on VersionConflictError each land exactly once`, async () => {
      const { stores } = await freshStores();
      const deployment = makeDeployment({}, T0);
      await stores.deployments.createIfAbsent(deployment);

      /** read → revise → update until this worker's one increment lands; answers how many conflicts it saw. */
      async function worker(n: number): Promise<number> {
        for (let conflicts = 0; conflicts < 500; conflicts++) {
          const current = await stores.deployments.get(deployment.id);
          if (!current) throw new Error(`deployment ${deployment.id} vanished`);
          try {
            await stores.deployments.update(withMarker(current, n));
            return conflicts;
          } catch (error) {
            if (!(error instanceof VersionConflictError)) throw error;
          }
        }
        throw new Error(`worker ${n} never landed its update`);
      }

      await Promise.all(Array.from({ length: WORKERS }, (_, n) => worker(n)));

      const final = await stores.deployments.get(deployment.id);
      expect(final?.version).toBe(1 + WORKERS);
      expect(appliedBy(final)).toEqual(Array.from({ length: WORKERS }, (_, n) => n));
    });

    it(`without retries, every write that reports success is kept and every other one fails with VersionConflictError`, async () => {
      const { stores } = await freshStores();
      const deployment = makeDeployment({}, T0);
      await stores.deployments.createIfAbsent(deployment);

      const outcomes = await Promise.allSettled(
        Array.from({ length: WORKERS }, async (_, n) => {
          const current = await stores.deployments.get(deployment.id);
          if (!current) throw new Error(`deployment ${deployment.id} vanished`);
          await stores.deployments.update(withMarker(current, n));
          return n;
        }),
      );

      const landed = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
      expect(landed.length).toBeGreaterThanOrEqual(1);
      expect(landed.length + failures.length).toBe(WORKERS);
      for (const failure of failures) expect(failure).toBeInstanceOf(VersionConflictError);

      const final = await stores.deployments.get(deployment.id);
      expect(final?.version).toBe(1 + landed.length);
      expect(appliedBy(final)).toEqual([...landed].sort((a, b) => a - b));
    });
  });

  describe('service lock', () => {
    it(`grants a contested lock to exactly one of two owners, ${WORKERS} times over; the loser takes over once the lease ends`, async () => {
      const { stores } = await freshStores();
      for (let round = 0; round < WORKERS; round++) {
        const service = `race-${round}`;
        const owners = [`dep_A${round}`, `dep_B${round}`];

        const outcomes = await Promise.allSettled(owners.map((owner) => stores.locks.acquire({ service, owner, now: T0, leaseMs: LEASE_MS })));

        const grants = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
        const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
        expect(grants).toHaveLength(1);
        expect(refusals).toHaveLength(1);
        const winner = grants[0]!;
        const loser = owners.find((owner) => owner !== winner.owner)!;
        expect(owners).toContain(winner.owner);
        expect(refusals[0]).toBeInstanceOf(ConflictError);
        expect(refusals[0]).toMatchObject({ name: 'ConflictError', holder: winner.owner });
        expect((refusals[0] as Error).message).toContain(winner.owner);
        expect(await stores.locks.get(service)).toEqual(winner);

        const takeover = await stores.locks.acquire({ service, owner: loser, now: new Date(winner.leaseExpiresAt), leaseMs: LEASE_MS });
        expect(takeover.owner).toBe(loser);
        expect(takeover.fencingToken).toBeGreaterThan(winner.fencingToken);
        expect(await stores.locks.get(service)).toEqual(takeover);
      }
    });
  });

  describe('idempotency claims', () => {
    it('lets exactly one of 50 concurrent claims of one key win, and answers all 50 with the winning record', async () => {
      const { table, stores } = await freshStores();
      const key = '01HEXECRACE-stage-1';
      const candidates: IdempotencyRecord[] = Array.from({ length: 50 }, (_, i) => ({
        key,
        requestHash: `sha256:${String(i).padStart(64, '0')}`,
        deployment: makeDeployment({ reason: `candidate ${i}` }, T0),
        createdAt: T0.toISOString(),
        expiresAtEpochSeconds: Math.floor(T0.getTime() / 1000) + 24 * 3600,
      }));

      const outcomes = await Promise.all(candidates.map((record) => stores.idempotency.claim(record)));

      const winners = outcomes.filter((outcome) => outcome.claimed);
      expect(winners).toHaveLength(1);
      const winning = winners[0]!.record;
      expect(candidates).toContainEqual(winning);
      for (const outcome of outcomes) expect(outcome.record).toEqual(winning);
      expect(await stores.idempotency.get(key)).toEqual(winning);

      const idempotencyItems = (await scanTable(table)).filter((item) => String(item['pk']).startsWith('IDEM#'));
      expect(idempotencyItems).toHaveLength(1);
    });
  });
});
