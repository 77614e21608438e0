/**
 * The CanarySlots contract (shared/ports/canary-slots.ts), run against DynamoDB Local and the
 * embedded store, and against the fake the use-case specifications use: a scope never holds more
 * than its cap, even under parallel claims; a holder's claim again is idempotent whatever the
 * count; a release frees the slot, twice is a no-op; a conditional release frees only the claim it
 * names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import type { CanarySlots } from '../../shared/ports/canary-slots.js';
import { InMemoryCanarySlots } from '../support/fakes.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';

const AT = ['2026-06-01T00:00:00.000Z', '2026-06-01T00:01:00.000Z', '2026-06-01T00:02:00.000Z'] as const;
const GLOBAL = 'three-at-once#global';

function contract(freshSlots: () => Promise<CanarySlots>): void {
  it('claims up to max; the next is refused with the holders, oldest first', async () => {
    const slots = await freshSlots();
    expect(await slots.holders(GLOBAL)).toEqual([]);
    expect(await slots.claim(GLOBAL, 'dep_b', 2, AT[1])).toEqual({ claimed: true });
    expect(await slots.claim(GLOBAL, 'dep_a', 2, AT[0])).toEqual({ claimed: true });

    expect(await slots.claim(GLOBAL, 'dep_c', 2, AT[2])).toEqual({ claimed: false, holders: [{ holder: 'dep_a', claimedAt: AT[0] }, { holder: 'dep_b', claimedAt: AT[1] }] });
    expect(await slots.holders(GLOBAL)).toEqual([{ holder: 'dep_a', claimedAt: AT[0] }, { holder: 'dep_b', claimedAt: AT[1] }]);
    // Scopes are independent.
    expect(await slots.claim('three-at-once#cloud:aws', 'dep_c', 2, AT[2])).toEqual({ claimed: true });
  });

  it('a holder claims again whatever the count (its time moves); a release frees the slot, twice is a no-op', async () => {
    const slots = await freshSlots();
    await slots.claim(GLOBAL, 'dep_a', 1, AT[0]);
    expect(await slots.claim(GLOBAL, 'dep_a', 1, AT[1])).toEqual({ claimed: true });
    expect(await slots.holders(GLOBAL)).toEqual([{ holder: 'dep_a', claimedAt: AT[1] }]);

    await slots.release(GLOBAL, 'dep_a');
    await slots.release(GLOBAL, 'dep_a');
    await slots.release('never-claimed#global', 'dep_a');
    expect(await slots.holders(GLOBAL)).toEqual([]);
    expect(await slots.holders('never-claimed#global')).toEqual([]);
    expect(await slots.claim(GLOBAL, 'dep_b', 1, AT[2])).toEqual({ claimed: true });
  });

  it('a release naming a claim time frees only that claim', async () => {
    const slots = await freshSlots();
    await slots.claim(GLOBAL, 'dep_a', 1, AT[0]);
    await slots.claim(GLOBAL, 'dep_a', 1, AT[1]);

    await slots.release(GLOBAL, 'dep_a', AT[0]);
    expect(await slots.holders(GLOBAL)).toEqual([{ holder: 'dep_a', claimedAt: AT[1] }]);
    await slots.release(GLOBAL, 'dep_a', AT[1]);
    expect(await slots.holders(GLOBAL)).toEqual([]);
  });

  it('20 parallel claims of a cap of 3 (the scope’s item not yet there) take exactly 3 slots', async () => {
    const slots = await freshSlots();
    const holders = Array.from({ length: 20 }, (_unused, index) => `dep_${String(index).padStart(2, '0')}`);

    const outcomes = await Promise.all(holders.map((holder) => slots.claim(GLOBAL, holder, 3, AT[0])));

    const winners = holders.filter((_holder, index) => outcomes[index]!.claimed);
    expect(winners).toHaveLength(3);
    expect((await slots.holders(GLOBAL)).map((h) => h.holder)).toEqual(winners);
    for (const outcome of outcomes) if (!outcome.claimed) expect(outcome.holders.length).toBe(3);
  });

  it('lists every scope ever claimed with its holders', async () => {
    const slots = await freshSlots();
    await slots.claim(GLOBAL, 'dep_a', 3, AT[0]);
    await slots.claim('edge#group:edge-eu', 'dep_b', 3, AT[1]);
    await slots.release('edge#group:edge-eu', 'dep_b');

    const scopes = await slots.scopes();
    expect(scopes.sort((a, b) => a.scopeKey.localeCompare(b.scopeKey))).toEqual([
      { scopeKey: 'edge#group:edge-eu', holders: [] },
      { scopeKey: GLOBAL, holders: [{ holder: 'dep_a', claimedAt: AT[0] }] },
    ]);
  });
}

describe.each(backendFactories)('CanarySlots on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  contract(async () => createDynamoDbStores(await backend.freshTable()).slots);
});

describe('CanarySlots fake', () => {
  contract(async () => new InMemoryCanarySlots());
});
