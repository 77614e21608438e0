/**
 * Concurrency caps enforced by slots (shared/usecases/cap-slots.ts, and their use at create) on
 * fakes: a create claims a slot in every scope it joins; a full scope found at the claim (a race the
 * read before it missed) is PolicyDeniedError naming the cap and the holders, the slots claimed
 * before it and the key's claim are taken back, nothing else is written; a replayed claim is never
 * refused by its own slot; a create refused by the service lock frees its slots; a release frees a
 * holder's slots wherever they are.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError, PolicyDeniedError } from '../../../shared/domain/errors.js';
import type { PolicyRule } from '../../../shared/domain/policy/types.js';
import { claimCapSlots, releaseCapSlots } from '../../../shared/usecases/cap-slots.js';
import { createDeployment, type CreateDeploymentCommand } from '../../../shared/usecases/create-deployment.js';
import { createCommand } from '../../support/create-commands.js';
import { makeDeployment, T0 } from '../../support/deployments.js';
import { rejectionOf } from '../../support/errors.js';
import { fakeDeps } from '../../support/fakes.js';

const EVERYWHERE = { services: ['*'], environments: ['*'] };
const capRule = (max: number, per: 'global' | 'cloud' = 'global'): PolicyRule => ({ name: 'cap', kind: 'concurrency-cap', ...EVERYWHERE, max, per });
const AT = T0.toISOString();
/** On both clouds: a per-cloud cap has two scopes. */
const command = (overrides: Partial<CreateDeploymentCommand> = {}) => createCommand({ targets: [{ cloud: 'aws', cluster: 'eks-use1' }, { cloud: 'gcp', cluster: 'gke-usc1' }], ...overrides });

describe('createDeployment under a concurrency cap', () => {
  it('claims a slot in every scope it joins before its deployment is written', async () => {
    const deps = fakeDeps({ policyRules: [capRule(2, 'cloud')] });

    const { deployment } = await createDeployment(deps, command());

    expect(await deps.slots.scopes()).toEqual([
      { scopeKey: 'cap#cloud:aws', holders: [{ holder: deployment.id, claimedAt: AT }] },
      { scopeKey: 'cap#cloud:gcp', holders: [{ holder: deployment.id, claimedAt: AT }] },
    ]);
  });

  it('a scope found full at the claim refuses with the cap and its holders; the slot claimed before it, the key and nothing else remain', async () => {
    const deps = fakeDeps({ policyRules: [capRule(1, 'cloud')] });
    await deps.slots.claim('cap#cloud:gcp', 'dep_other', 1, AT);
    // The read before the claim saw room (another create claimed in between): the claim decides.
    deps.slots.holders = async () => [];

    const error = await rejectionOf(createDeployment(deps, command()));

    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).denied).toEqual([
      { rule: 'cap', kind: 'concurrency-cap', reason: 'concurrency cap "cap" (at most 1 per cloud): 1 already running in cloud gcp (dep_other)', nextAllowedAt: null },
    ]);
    expect(await deps.slots.scopes()).toEqual([
      { scopeKey: 'cap#cloud:gcp', holders: [{ holder: 'dep_other', claimedAt: AT }] },
      { scopeKey: 'cap#cloud:aws', holders: [] },
    ]);
    expect(await deps.idempotency.get('key-1')).toBeUndefined();
    expect(deps.deployments.all()).toEqual([]);
    expect(await deps.activeRuns.list()).toEqual([]);
    expect(deps.audit.writeAttempts + deps.locks.writeAttempts).toBe(0);
    expect(deps.workflow.started).toEqual([]);
  });

  it('a replay is not refused by its own slot, and a full cap refuses the next create', async () => {
    const deps = fakeDeps({ policyRules: [capRule(1)] });
    const first = await createDeployment(deps, command());

    expect(await createDeployment(deps, command())).toEqual({ deployment: first.deployment, replayed: true });
    const next = await rejectionOf(createDeployment(deps, command({ service: 'checkout', idempotencyKey: 'key-2' })));
    expect((next as PolicyDeniedError).denied[0]!.reason).toContain(first.deployment.id);
  });

  it('claiming again is idempotent whatever the count', async () => {
    const deps = fakeDeps({ policyRules: [capRule(1)] });
    const d = makeDeployment();

    await claimCapSlots(deps, d);
    await claimCapSlots(deps, d);

    expect((await deps.slots.holders('cap#global')).map((h) => h.holder)).toEqual([d.id]);
  });

  it('a create refused by the service lock (409) frees the slots it claimed', async () => {
    const deps = fakeDeps();
    await createDeployment(deps, command());
    deps.policyRules = [capRule(5)];

    const error = await rejectionOf(createDeployment(deps, command({ idempotencyKey: 'key-2' })));

    expect(error).toBeInstanceOf(ConflictError);
    expect(await deps.slots.holders('cap#global')).toEqual([]);
  });

  it('with no cap applying, a create reads and writes no slot', async () => {
    const deps = fakeDeps({ policyRules: [{ ...capRule(1), services: ['payments'] }] });
    deps.slots.holders = () => Promise.reject(new Error('read'));

    await createDeployment(deps, command());

    expect(deps.slots.writeAttempts).toBe(0);
  });
});

describe('releaseCapSlots', () => {
  it('frees a holder’s slots in every scope, whatever the configuration says now; twice is a no-op', async () => {
    const deps = fakeDeps();
    for (const scope of ['old-rule#global', 'cap#cloud:aws']) await deps.slots.claim(scope, 'dep_a', 3, AT);
    await deps.slots.claim('cap#cloud:aws', 'dep_b', 3, AT);

    await releaseCapSlots(deps, 'dep_a');
    await releaseCapSlots(deps, 'dep_a');

    expect(await deps.slots.scopes()).toEqual([
      { scopeKey: 'old-rule#global', holders: [] },
      { scopeKey: 'cap#cloud:aws', holders: [{ holder: 'dep_b', claimedAt: AT }] },
    ]);
  });
});
