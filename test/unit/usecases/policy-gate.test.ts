/**
 * The rules asked before a traffic step (usecases/canary/policy-gate.ts), on fakes: a refusing
 * calendar rule holds the run until its next-allowed instant (within the bounds), a refusal that
 * cannot say when it ends is asked again after the recheck interval, rules that judge only a start
 * allow, and a retry of a step that began is not asked again.
 */
import { describe, expect, it } from 'vitest';
import { initialRunState, type Deployment } from '../../../shared/domain/deployment.js';
import { phaseOfStep } from '../../../shared/domain/lifecycle.js';
import type { PolicyRule } from '../../../shared/domain/policy/types.js';
import { askPolicyBeforeTraffic, MAX_POLICY_HOLD_SECONDS } from '../../../shared/usecases/canary/policy-gate.js';
import { makeDeployment, T0 } from '../../support/deployments.js';
import { fakeDeps, FixedClock } from '../../support/fakes.js';

const EVERYWHERE = { services: ['*'], environments: ['*'] };
const freeze = (start: string, end: string): PolicyRule => ({ name: 'freeze', kind: 'freeze-window', ...EVERYWHERE, timeZone: 'UTC', once: { start, end } });
const CAP: PolicyRule = { name: 'one-at-a-time', kind: 'concurrency-cap', ...EVERYWHERE, max: 1, per: 'global' };

function running(): Deployment {
  const d = makeDeployment({ steps: [{ kind: 'setWeight', canaryPercent: 10, wave: null }, { kind: 'setWeight', canaryPercent: 100, wave: null }] });
  return { ...d, phase: phaseOfStep(d, 1), stepIndex: 1, version: 5, baseline: { version: 'v1' }, run: { ...initialRunState, stepStartedAt: T0.toISOString() } } as Deployment;
}

describe('askPolicyBeforeTraffic', () => {
  it('holds the run until a refusing freeze ends, naming it, with the verdicts for the audit', async () => {
    const now = new Date('2026-12-24T10:00:00Z');
    const deps = fakeDeps({ clock: new FixedClock(now), policyRules: [freeze('2026-12-24T09:00', '2026-12-24T10:05')] });
    const answer = await askPolicyBeforeTraffic(deps, running(), { action: 'shift' });
    expect(answer.held).toBe(true);
    if (!answer.held) return;
    expect(answer.deployment.phase).toBe('HELD');
    expect(answer.deployment.run.policyHold).toEqual({ rules: ['freeze'], reason: expect.stringMatching(/^freeze: freeze window "freeze"/), until: '2026-12-24T10:05:00.000Z', seconds: 300, since: now.toISOString() });
    expect(answer.auditDetails).toEqual({ policy: { moment: 'step', stepIndex: 1, verdicts: [expect.objectContaining({ rule: 'freeze', allowed: false })] } });
  });

  it('asks again within MAX_POLICY_HOLD_SECONDS however long the freeze lasts', async () => {
    const deps = fakeDeps({ clock: new FixedClock(new Date('2026-12-24T10:00:00Z')), policyRules: [freeze('2026-12-24T09:00', '2026-12-27T00:00')] });
    const answer = await askPolicyBeforeTraffic(deps, running(), { action: 'promote' });
    expect(answer.held && answer.deployment.run.policyHold).toEqual(expect.objectContaining({ until: '2026-12-27T00:00:00.000Z', seconds: MAX_POLICY_HOLD_SECONDS }));
  });

  it('lets the step go when the rules allow; a cap, judged only at create, allows here even with others running', async () => {
    const deps = fakeDeps({ clock: new FixedClock(new Date('2026-12-24T11:00:00Z')), policyRules: [freeze('2026-12-24T09:00', '2026-12-24T10:05'), CAP] });
    const other = { ...makeDeployment({}), id: 'dep_other', service: 'search' };
    await deps.deployments.createIfAbsent(other);
    await deps.activeRuns.mark(other.id, T0.toISOString());
    const answer = await askPolicyBeforeTraffic(deps, running(), { action: 'shift' });
    expect(answer).toEqual({ held: false, auditDetails: { policy: { moment: 'step', stepIndex: 1, verdicts: [expect.objectContaining({ rule: 'freeze', allowed: true }), expect.objectContaining({ rule: 'one-at-a-time', allowed: true })] } } });
  });

  it('does not ask again on a retry of the same task: the step began before the freeze', async () => {
    const deps = fakeDeps({ clock: new FixedClock(new Date('2026-12-24T10:00:00Z')), policyRules: [freeze('2026-12-24T09:00', '2026-12-24T10:05')] });
    const d = running();
    const retried: Deployment = { ...d, retrying: { action: 'shift', atVersion: d.version, attempt: 2, maxAttempts: 7, reason: 'HAProxy unreachable', at: T0.toISOString() } };
    expect(await askPolicyBeforeTraffic(deps, retried, { action: 'shift' })).toEqual({ held: false, auditDetails: {} });
    // A note of an earlier version is not this retry.
    expect((await askPolicyBeforeTraffic(deps, { ...retried, retrying: { ...retried.retrying!, atVersion: d.version - 1 } }, { action: 'shift' })).held).toBe(true);
  });

  it('with no rule applying, reads nothing and records nothing', async () => {
    const deps = fakeDeps({ policyRules: [{ ...freeze('2026-12-24T09:00', '2026-12-24T10:05'), services: ['payments'] }] });
    expect(await askPolicyBeforeTraffic(deps, running(), { action: 'shift' })).toEqual({ held: false, auditDetails: {} });
  });
});
