/** The tasks inside a step: shifting traffic, awaiting convergence, holding (pauses, intervals, gates). */
import { InternalError } from '../../domain/errors.js';
import { heldSeconds, holdClosed, holdOpened, shifted, stepCompleted, withUnverified } from '../../domain/lifecycle.js';
import type { ActionWork } from './run-task.js';
import { holdLock } from './lock.js';
import { askPolicyBeforeTraffic } from './policy-gate.js';
import { applyShares, notConverged, sharesAtStep, verifyShares, weightsOf } from './traffic.js';

/** Moves the step's traffic, unless the rules refuse it now (canary/policy-gate.ts): the run is then HELD. */
export const shift: ActionWork = async (deps, d, input) => {
  await holdLock(deps, d);
  const gate = await askPolicyBeforeTraffic(deps, d, input);
  if (gate.held) return { deployment: gate.deployment, auditDetails: gate.auditDetails, verb: 'held' };
  const shares = sharesAtStep(deps, d, d.stepIndex);
  await applyShares(deps, d, shares);
  return { deployment: shifted(d, weightsOf(deps, d, shares), deps.clock.now()), auditDetails: gate.auditDetails };
};

/**
 * Done when every proxy that can be asked serves the step's split. A group that does not and that
 * applying again repairs (a proxy restarted, programmed late by a slow writer, a lost publish) is
 * programmed again from the registry by verifyShares before the retry asks once more.
 */
export const converge: ActionWork = async (deps, d) => {
  await holdLock(deps, d);
  const { lagging, unverified } = await verifyShares(deps, d, sharesAtStep(deps, d, d.stepIndex));
  if (lagging.length > 0) throw notConverged(`step ${d.stepIndex + 1}/${d.steps.length} of deployment ${d.id}`, lagging);
  return withUnverified(stepCompleted(d, deps.clock.now()), unverified);
};

/**
 * Opens a hold: stores the task token the run now waits on (promote, resume, pause and cancel send
 * it) and renews the lock for as long as the hold may last, so nobody can take the service meanwhile.
 */
export const hold: ActionWork = async (deps, d, input) => {
  const expect = input.expect;
  if (input.token === undefined || (expect?.kind !== 'wait' && expect?.kind !== 'gate')) throw new InternalError('the Hold state was reached without a task token or a wait/gate instruction: it must pass $$.Task.Token and $.next');
  await holdLock(deps, d, expect.seconds * 1000 + deps.settings.lockLeaseMs);
  return holdOpened(d, { token: input.token, kind: expect.kind, seconds: expect.seconds }, deps.clock.now());
};

/** Closes the open hold (woken, timed out, or left by an execution that died), counting the time it lasted. */
export const unhold: ActionWork = async (deps, d, input) => {
  // A retry whose write landed: nothing left to close.
  if (d.run.hold === null) return d;
  await holdLock(deps, d);
  const now = deps.clock.now();
  return holdClosed(d, heldSeconds(d.run.hold, input.timedOut === true, now), now);
};
