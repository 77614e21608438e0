/**
 * The ActiveRuns contract (shared/ports/active-runs.ts) on DynamoDB Local and the embedded store:
 * idempotent marks that keep their first time, idempotent unmarks, a listing oldest first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import type { ActiveRuns } from '../../shared/ports/active-runs.js';
import { minutesAfterT0 } from '../support/deployments.js';
import { backendFactories, scanTable, type StoreBackend } from '../support/store-backends.js';

describe.each(backendFactories)('ActiveRuns on %s', (_name, startBackend) => {
  let backend: StoreBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  async function fresh(): Promise<{ runs: ActiveRuns; items: () => Promise<Record<string, unknown>[]> }> {
    const table = await backend.freshTable();
    return { runs: createDynamoDbStores(table).activeRuns, items: () => scanTable(table) };
  }

  it('lists marks oldest first; a second mark keeps the first time; unmark removes, twice is a no-op', async () => {
    const { runs, items } = await fresh();
    await runs.mark('dep_b', minutesAfterT0(2).toISOString());
    await runs.mark('dep_a', minutesAfterT0(1).toISOString());
    await runs.mark('dep_a', minutesAfterT0(9).toISOString());

    expect(await runs.list()).toEqual([
      { deploymentId: 'dep_a', markedAt: minutesAfterT0(1).toISOString() },
      { deploymentId: 'dep_b', markedAt: minutesAfterT0(2).toISOString() },
    ]);

    await runs.unmark('dep_a');
    await runs.unmark('dep_a');
    await runs.unmark('dep_never_marked');
    expect(await runs.list()).toEqual([{ deploymentId: 'dep_b', markedAt: minutesAfterT0(2).toISOString() }]);
    expect(await items()).toHaveLength(1);
  });

  it('lists more marks than one page holds', async () => {
    const { runs } = await fresh();
    const ids = Array.from({ length: 150 }, (_, i) => `dep_${String(i).padStart(26, '0')}`);
    await Promise.all(ids.map((id, i) => runs.mark(id, minutesAfterT0(i).toISOString())));
    expect((await runs.list()).map((r) => r.deploymentId)).toEqual(ids);
  });
});
