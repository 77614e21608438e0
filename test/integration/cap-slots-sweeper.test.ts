/**
 * The sweeper frees cap slots (shared/usecases/cap-slots.ts, resume-runs.ts) on the real stores,
 * DynamoDB Local and the embedded store, without killing a process: a creation that dies after
 * claiming its slot and before writing its deployment (here: it throws at `create:after-marker`)
 * holds the slot until the grace period is over; then the sweep frees it and the cap has room again.
 * The slot of a run that is over is freed at once; a live run's never.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { finished, prepared, released } from '../../shared/domain/lifecycle.js';
import { PolicyDeniedError } from '../../shared/domain/errors.js';
import type { PolicyRule } from '../../shared/domain/policy/types.js';
import { createDeployment } from '../../shared/usecases/create-deployment.js';
import { createCommand } from '../support/create-commands.js';
import { resumeRuns } from '../../shared/usecases/resume-runs.js';
import { makeDeployment, T0 } from '../support/deployments.js';
import { rejectionOf } from '../support/errors.js';
import { fakeDeps } from '../support/fakes.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';

const GRACE_MS = 60_000;
const ONE_AT_ONCE: PolicyRule = { name: 'one-at-once', kind: 'concurrency-cap', services: ['*'], environments: ['*'], max: 1, per: 'global' };
const SCOPE = 'one-at-once#global';

/** Dies (throws) once at `point`, as a process killed there would stop. */
class DieOnceAt {
  private armed = true;
  constructor(private readonly point: string) {}
  reached(name: string): void {
    if (this.armed && name === this.point) {
      this.armed = false;
      throw new Error(`died at ${name}`);
    }
  }
}

describe.each(backendFactories)('the sweeper frees cap slots on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  /** Use-case deps whose stores are the real ones (the registry stays the fake with checkout's versions). */
  async function depsOnStore() {
    const stores = createDynamoDbStores(await backend.freshTable());
    const base = fakeDeps({ policyRules: [ONE_AT_ONCE] });
    return { ...base, deployments: stores.deployments, activeRuns: stores.activeRuns, idempotency: stores.idempotency, audit: stores.audit, locks: stores.locks, slots: stores.slots };
  }

  it('a creation that died between its claim and its deployment holds the slot until the grace period is over', async () => {
    const deps = await depsOnStore();
    const died = await rejectionOf(createDeployment({ ...deps, crashPoints: new DieOnceAt('create:after-marker') }, createCommand({ idempotencyKey: 'key-died' })));
    expect(died).toEqual(new Error('died at create:after-marker'));
    const [orphan] = await deps.slots.holders(SCOPE);
    expect(orphan).toBeDefined();
    expect(await deps.deployments.get(orphan!.holder)).toBeUndefined();

    // The cap is full meanwhile: another create is refused, naming the orphan's slot.
    const refused = await rejectionOf(createDeployment(deps, createCommand({ service: 'checkout', idempotencyKey: 'key-next' })));
    expect(refused).toBeInstanceOf(PolicyDeniedError);
    expect((refused as PolicyDeniedError).denied[0]!.reason).toContain(orphan!.holder);
    expect((await resumeRuns(deps, { graceMs: GRACE_MS })).slots).toEqual([]);

    deps.clock.advance(GRACE_MS);
    const sweep = await resumeRuns(deps, { graceMs: GRACE_MS });

    expect(sweep.slots).toEqual([{ scopeKey: SCOPE, holder: orphan!.holder, reason: expect.stringContaining('no such deployment') }]);
    expect(await deps.slots.holders(SCOPE)).toEqual([]);
    const { deployment } = await createDeployment(deps, createCommand({ idempotencyKey: 'key-next' }));
    expect((await deps.slots.holders(SCOPE)).map((h) => h.holder)).toEqual([deployment.id]);
  });

  it('frees the slot of a run that is over at once, and never a live run’s', async () => {
    const deps = await depsOnStore();
    const over = makeDeployment({ id: 'dep_over' });
    const ready = prepared(over, { baseline: 'v41', weights: {}, fencingToken: 1 }, T0);
    await deps.deployments.createIfAbsent(over);
    await deps.deployments.update(ready);
    const ended = finished(ready, {}, T0);
    await deps.deployments.update(ended);
    await deps.deployments.update(released(ended, T0));
    const live = makeDeployment({ id: 'dep_live', service: 'cart' });
    await deps.deployments.createIfAbsent(live);
    await deps.activeRuns.mark(live.id, T0.toISOString());
    deps.workflow.states.set(live.id, 'running');
    await deps.slots.claim('per-cloud#cloud:aws', over.id, 2, T0.toISOString());
    await deps.slots.claim('per-cloud#cloud:aws', live.id, 2, T0.toISOString());

    deps.clock.advance(10 * GRACE_MS);
    const sweep = await resumeRuns(deps, { graceMs: GRACE_MS });

    expect(sweep.slots).toEqual([{ scopeKey: 'per-cloud#cloud:aws', holder: over.id, reason: 'its run is over' }]);
    expect((await deps.slots.holders('per-cloud#cloud:aws')).map((h) => h.holder)).toEqual([live.id]);
  });
});
