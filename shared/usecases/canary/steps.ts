/** The tasks inside a step: shifting traffic, awaiting convergence, counting waits, opening a gate. */
import { InternalError, NotConvergedError } from '../../domain/errors.js';
import { gateOpened, shifted, stepCompleted, waited } from '../../domain/lifecycle.js';
import type { ActionWork } from './run-task.js';
import { renewLock } from './lock.js';
import { applyShares, sharesAtStep, verifyShares, weightsOf } from './traffic.js';

/** At most this many lagging proxies are named in the error; the rest are counted. */
const NAMED_LAGGING = 5;

export const shift: ActionWork = async (deps, d) => {
  const shares = sharesAtStep(deps, d, d.stepIndex);
  await applyShares(deps, d, shares);
  return shifted(d, weightsOf(deps, d, shares), deps.clock.now());
};

export const converge: ActionWork = async (deps, d) => {
  const lagging = await verifyShares(deps, d, sharesAtStep(deps, d, d.stepIndex));
  if (lagging.length > 0) {
    const named = lagging.slice(0, NAMED_LAGGING).map((l) => `${l.proxy}: ${l.reason}`);
    const more = lagging.length > NAMED_LAGGING ? ` (and ${lagging.length - NAMED_LAGGING} more)` : '';
    throw new NotConvergedError(`step ${d.stepIndex + 1}/${d.steps.length} of deployment ${d.id} is not served yet by ${named.join('; ')}${more}`, lagging.map((l) => l.proxy));
  }
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
