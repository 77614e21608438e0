/**
 * A run held by policy (lifecycle.ts `policyHeld`, canary/policy-gate.ts): it waits in an ordinary
 * timed hold, the hold's end clears it and tries the step again, requests still reach it, and
 * nothing about it counts as time waited in a step.
 */
import { describe, expect, it } from 'vitest';
import { initialRunState, statusOf, type Deployment, type Step } from '../../../shared/domain/deployment.js';
import { cancelRequested, decideNext, holdClosed, holdOpened, holdToWake, phaseOfStep, policyHeld, promoteRequested } from '../../../shared/domain/lifecycle.js';
import { describeProgress } from '../../../shared/domain/progress.js';
import { makeDeployment, T0 } from '../../support/deployments.js';

const NOW = new Date('2026-12-24T07:00:05.000Z');
const STEPS: Step[] = [
  { kind: 'setWeight', canaryPercent: 10, wave: null },
  { kind: 'pause', durationSeconds: 30 },
  { kind: 'setWeight', canaryPercent: 50, wave: null },
];
const HOLD = { rules: ['xmas'], reason: 'freeze window "xmas" until 2026-12-27T00:00 Europe/Berlin', until: '2026-12-26T23:00:00.000Z', seconds: 900 };

function atStep(stepIndex: number): Deployment {
  const d = makeDeployment({ steps: STEPS });
  return { ...d, phase: phaseOfStep(d, stepIndex), stepIndex, version: 7, baseline: { version: 'v1' }, run: { ...initialRunState, stepStartedAt: T0.toISOString() } } as Deployment;
}

describe('policyHeld', () => {
  it('puts the run in phase HELD, still RUNNING for Spinnaker, and waits the hold before anything else', () => {
    const held = policyHeld(atStep(2), HOLD, NOW);
    expect(held.phase).toBe('HELD');
    expect(statusOf(held.phase)).toBe('RUNNING');
    expect(held.run.policyHold).toEqual({ ...HOLD, since: NOW.toISOString() });
    expect(decideNext(held)).toEqual({ kind: 'wait', atVersion: held.version, stepIndex: 2, seconds: 900 });
    expect(held.weights).toEqual(atStep(2).weights);
  });

  it('says in progress which rules hold which step, and until when', () => {
    expect(describeProgress(policyHeld(atStep(2), HOLD, NOW))).toBe(`held by policy before step 3/3 (shift to 50%): ${HOLD.reason}; allowed again at ${HOLD.until}`);
    const atPromotion = { ...atStep(2), stepIndex: 3 };
    expect(describeProgress(policyHeld(atPromotion, { ...HOLD, until: null }, NOW))).toBe(`held by policy before the promotion: ${HOLD.reason}; asked again shortly`);
  });

  it('ends with its hold: the step is tried again, in its own phase, and the held time counts for nothing', () => {
    const held = policyHeld(atStep(2), HOLD, NOW);
    const waiting = holdOpened(held, { token: 't', kind: 'wait', seconds: 900 }, NOW);
    const closed = holdClosed(waiting, 900, new Date(NOW.getTime() + 900_000));
    expect(closed.phase).toBe('SHIFTING');
    expect(closed.run.policyHold).toBeNull();
    expect(closed.run.waitedSeconds).toBe(0);
    expect(decideNext(closed)).toEqual({ kind: 'shift', atVersion: closed.version, stepIndex: 2 });
  });

  it('is woken by a cancel, which then rolls back (the rollback itself is never held)', () => {
    const waiting = holdOpened(policyHeld(atStep(2), HOLD, NOW), { token: 't', kind: 'wait', seconds: 900 }, NOW);
    const canceled = cancelRequested(waiting, 'alice', 'not today', NOW).deployment;
    expect(holdToWake(canceled)).not.toBeNull();
    const closed = holdClosed(canceled, 3, NOW);
    expect(closed.phase).toBe('ROLLING_BACK');
    expect(decideNext(closed).kind).toBe('rollback');
  });

  it('keeps a full promotion asked meanwhile waiting for the rules: the phase stays HELD and the hold is not woken', () => {
    const waiting = holdOpened(policyHeld(atStep(2), HOLD, NOW), { token: 't', kind: 'wait', seconds: 900 }, NOW);
    const promoted = promoteRequested(waiting, true, 'bob', null, NOW).deployment;
    expect(promoted.phase).toBe('HELD');
    expect(holdToWake(promoted)).toBeNull();
    const closed = holdClosed(promoted, 900, NOW);
    expect(closed.phase).toBe('PROMOTING');
    expect(decideNext(closed).kind).toBe('promote');
  });

  it('does not count the held time in a pause that follows', () => {
    const held = policyHeld(atStep(0), { ...HOLD, seconds: 40 }, NOW);
    const closed = holdClosed(holdOpened(held, { token: 't', kind: 'wait', seconds: 40 }, NOW), 40, NOW);
    expect(closed.stepIndex).toBe(0);
    expect(closed.run.waitedSeconds).toBe(0);
  });
});
