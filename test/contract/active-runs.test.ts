/**
 * The ActiveRuns contract (shared/ports/active-runs.ts), run against DynamoDB Local and the
 * embedded store, and against the fake the use-case specifications use: marks are idempotent, the
 * latest mark's time stands, and a conditional unmark removes only the mark it names, so a sweeper
 * that judged a mark an orphan's never removes the one a retried creation made since.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import type { ActiveRuns } from '../../shared/ports/active-runs.js';
import { InMemoryActiveRuns } from '../support/fakes.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';

const AT = ['2025-01-01T00:00:00.000Z', '2025-01-01T00:01:30.000Z'] as const;

function contract(freshRuns: () => Promise<ActiveRuns>): void {
  it('marks once per deployment, oldest first; unmarking twice is a no-op', async () => {
    const runs = await freshRuns();
    await runs.mark('dep_b', AT[1]);
    await runs.mark('dep_a', AT[0]);
    await runs.mark('dep_a', AT[0]);

    expect(await runs.list()).toEqual([{ deploymentId: 'dep_a', markedAt: AT[0] }, { deploymentId: 'dep_b', markedAt: AT[1] }]);
    await runs.unmark('dep_a');
    await runs.unmark('dep_a');
    expect(await runs.list()).toEqual([{ deploymentId: 'dep_b', markedAt: AT[1] }]);
  });

  it('the latest mark’s time stands, and an unmark naming the earlier time leaves it', async () => {
    const runs = await freshRuns();
    await runs.mark('dep_a', AT[0]);
    await runs.mark('dep_a', AT[1]);

    await runs.unmark('dep_a', AT[0]);
    expect(await runs.list()).toEqual([{ deploymentId: 'dep_a', markedAt: AT[1] }]);
    await runs.unmark('dep_a', AT[1]);
    expect(await runs.list()).toEqual([]);
    // Naming a time when nothing is marked is a no-op too.
    await runs.unmark('dep_a', AT[1]);
  });
}

describe.each(backendFactories)('ActiveRuns on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  contract(async () => createDynamoDbStores(await backend.freshTable()).activeRuns);
});

describe('ActiveRuns fake', () => {
  contract(async () => new InMemoryActiveRuns());
});
