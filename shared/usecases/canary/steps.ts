/** The tasks inside a step: shifting traffic, awaiting convergence, counting waits, opening a gate. */
import { InternalError } from '../../domain/errors.js';
import { gateOpened, shifted, stepCompleted, waited } from '../../domain/lifecycle.js';
import type { ActionWork } from './run-task.js';
import { renewLock } from './lock.js';
import { applyShares, notConverged, sharesAtStep, verifyShares, weightsOf } from './traffic.js';

export const shift: ActionWork = async (deps, d) => {
  const shares = sharesAtStep(deps, d, d.stepIndex);
  await applyShares(deps, d, shares);
  return shifted(d, weightsOf(deps, d, shares), deps.clock.now());
};

export const converge: ActionWork = async (deps, d) => {
  const lagging = await verifyShares(deps, d, sharesAtStep(deps, d, d.stepIndex));
  if (lagging.length > 0) throw notConverged(`step ${d.stepIndex + 1}/${d.steps.length} of deployment ${d.id}`, lagging);
  return stepCompleted(d, deps.clock.now());
};

export const waitedFor: ActionWork = async (deps, d, input) => {
  const seconds = input.expect?.kind === 'wait' ? input.expect.seconds : 0;
  await renewLock(deps, d);
  return waited(d, seconds, deps.clock.now());
};

/** Stores the token the gate waits on; promote, resume or cancel send it (usecases/control-deployment.ts). */
export const gate: ActionWork = async (deps, d, input) => {
  if (input.token === undefined) throw new InternalError('the gate was reached without a task token: the Gate state must pass $$.Task.Token');
  // A gate may wait days: the lease must outlive it, or another deployment could take the service.
  await renewLock(deps, d, GATE_LEASE_MS);
  return gateOpened(d, input.token, deps.clock.now());
};

/** The Gate state's own timeout (canary.asl.json: 7 days). */
const GATE_LEASE_MS = 7 * 24 * 3600 * 1000;
