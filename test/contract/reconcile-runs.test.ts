/**
 * The ReconcileRuns contract (shared/ports/reconcile-runs.ts), on DynamoDB Local, the embedded
 * store and the fake the use-case specifications use: runs are created once by id, every update is
 * conditional on the revision read, and one run at a time holds the slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { newReconcileRun } from '../../shared/domain/reconcile-run.js';
import type { ReconcileRuns } from '../../shared/ports/reconcile-runs.js';
import { rejectionOf } from '../support/errors.js';
import { InMemoryReconcileRuns } from '../support/reconcile-run-fakes.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';

const AT = '2026-12-05T03:00:00.000Z';

function contract(freshRuns: () => Promise<ReconcileRuns>): void {
  it('creates a run once by id; a second create leaves the first as it was', async () => {
    const runs = await freshRuns();
    const run = newReconcileRun('rec_A', AT, { actor: 'admin', reason: null });
    expect(await runs.get('rec_A')).toBeUndefined();
    expect(await runs.create(run)).toBe('created');
    expect(await runs.create({ ...run, requestedBy: null })).toBe('existed');
    expect(await runs.get('rec_A')).toEqual(run);
  });

  it('updates only at the revision read: a stale or repeated update is a VersionConflictError', async () => {
    const runs = await freshRuns();
    const run = newReconcileRun('rec_B', AT, null);
    await runs.create(run);
    const moved = { ...run, cursor: 'cart', shardsDone: 1, servicesSeen: 250, revision: 2 };
    await runs.update(moved);
    expect(await rejectionOf(runs.update(moved))).toMatchObject({ name: 'VersionConflictError' });
    expect(await rejectionOf(runs.update({ ...run, revision: 5 }))).toMatchObject({ name: 'VersionConflictError' });
    expect(await rejectionOf(runs.update({ ...newReconcileRun('rec_none', AT, null), revision: 2 }))).toMatchObject({ name: 'VersionConflictError' });
    expect(await runs.get('rec_B')).toEqual(moved);
  });

  it('holds one run at a time: a claim while one holds the slot answers that one, and only its holder frees it', async () => {
    const runs = await freshRuns();
    expect(await runs.active()).toBeUndefined();
    expect(await runs.claimActive('rec_1')).toBe('rec_1');
    expect(await runs.claimActive('rec_1')).toBe('rec_1');
    expect(await runs.claimActive('rec_2')).toBe('rec_1');
    await runs.releaseActive('rec_2');
    expect(await runs.active()).toBe('rec_1');
    await runs.releaseActive('rec_1');
    await runs.releaseActive('rec_1');
    expect(await runs.active()).toBeUndefined();
    expect(await runs.claimActive('rec_2')).toBe('rec_2');
  });
}

describe.each(backendFactories)('ReconcileRuns on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  contract(async () => createDynamoDbStores(await backend.freshTable()).reconcileRuns);
});

describe('ReconcileRuns fake', () => {
  contract(async () => new InMemoryReconcileRuns());
});
