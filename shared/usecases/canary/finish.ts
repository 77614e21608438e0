/**
 * How a run ends: promotion (canary 100%), rollback (baseline 100%), both verified on every proxy
 * group, then the lock's release. Recover and give-up are the state machine's failure paths.
 */
import type { Deployment } from '../../domain/deployment.js';
import { LockLostError } from '../../domain/errors.js';
import { finished, released, rollbackDecided, withUnverified } from '../../domain/lifecycle.js';
import { revise } from '../../domain/deployment.js';
import type { ActionWork, TaskInput } from './run-task.js';
import type { CanaryDeps } from './deps.js';
import { holdLock } from './lock.js';
import { askPolicyBeforeTraffic } from './policy-gate.js';
import { deregisterVersion } from '../deregister-version.js';
import { programProxies } from '../program-proxies.js';
import { applyShares, notConverged, uniformShares, verifyShares, weightsInRegistry, weightsOf } from './traffic.js';

/** The canary to 100%, unless the rules refuse it now (canary/policy-gate.ts): the run is then HELD. Nothing moved yet: nothing to ask. */
export const promote: ActionWork = async (deps, d, input) => {
  if (d.baseline === null || d.run.stepStartedAt === null) return endWith(deps, d, 100);
  const gate = await askPolicyBeforeTraffic(deps, d, input);
  if (gate.held) return { deployment: gate.deployment, auditDetails: gate.auditDetails, verb: 'held' };
  return { deployment: await endWith(deps, d, 100), auditDetails: gate.auditDetails };
};

export const rollback: ActionWork = (deps, d) => endWith(deps, d, 0);

export const release: ActionWork = async (deps, d) => {
  const outcome = await deps.locks.release(d.service, d.id);
  if (outcome === 'not-held') deps.logger.warn('deployment finished without holding its lock', { deploymentId: d.id, service: d.service });
  return released(d, deps.clock.now());
};

/**
 * A task failed for good: roll back, naming the error (an outcome already decided stays). A run that
 * lost its service rolls nothing back (the rollback finds the lock lost and leaves traffic to the
 * holder), so its reason does not say it will.
 */
export const recover: ActionWork = async (deps, d, input) => {
  if (input.error?.Error === 'LockLostError') return rollbackDecided(d, describeFailure(input), 'FAILED', deps.clock.now());
  return rollbackDecided(d, `${describeFailure(input)}; rolled back`, 'ROLLED_BACK', deps.clock.now());
};

/** The rollback's retries are spent. The registry already holds the baseline at 100%, so reconciliation repairs the proxies. */
export const giveUp: ActionWork = async (deps, d, input) => {
  const reason = `rollback could not be verified (${describeFailure(input)}); the registry holds ${d.baseline?.version ?? 'the baseline'} at 100% and reconciliation will repair the proxies`;
  return finishedAsRollback(deps, d, reason, 'FAILED');
};

/**
 * Every proxy group to `canaryPercent`, verified. Only the lock's holder touches traffic: were the
 * service taken over (an expired lease), this run would undo the new holder's steps.
 */
async function endWith(deps: CanaryDeps, d: Deployment, canaryPercent: 0 | 100): Promise<Deployment> {
  const lost = await lostLock(deps, d);
  if (lost) return await endedWithoutTheService(deps, d, lost);
  // Prepare never ran or refused (no step started; a baseline may be named at creation): nothing moved, nothing to move back.
  if (d.baseline === null || d.run.stepStartedAt === null) return finished(d, d.weights, deps.clock.now());
  const shares = uniformShares(deps, canaryPercent);
  try {
    await applyShares(deps, d, shares);
  } catch (error) {
    // The registry refused our split: a newer holder wrote after our renewal (the lease ran out meanwhile). Its traffic stays.
    if (error instanceof LockLostError) return await endedWithoutTheService(deps, d, error);
    throw error;
  }
  const { lagging, unverified } = await verifyShares(deps, d, shares);
  if (lagging.length > 0) throw notConverged(`${canaryPercent === 100 ? 'promotion' : 'rollback'} of deployment ${d.id}`, lagging);
  if (canaryPercent === 100 && d.deregisterBaseline) {
    // Idempotent: a retried promotion finds it deregistered already. Its servers drain now and go at the next apply.
    await deregisterVersion(deps, { service: d.service, version: d.baseline.version, actor: 'crossfade-canary', asLockHolder: d.id });
    await programProxies(deps, d.service);
  }
  return finished(withUnverified(d, unverified), weightsOf(deps, d, shares), deps.clock.now());
}

/**
 * Nothing was rolled back or promoted: FAILED, unless an operator asked for the end (CANCELED
 * stays). Its weights are what the registry holds now (the holder's), not this run's last step.
 */
async function endedWithoutTheService(deps: CanaryDeps, d: Deployment, lost: LockLostError): Promise<Deployment> {
  const finalPhase = d.run.outcome?.kind === 'rollback' && d.run.outcome.finalPhase === 'CANCELED' ? 'CANCELED' : 'FAILED';
  const state = await deps.registry.getService(d.service);
  return finishedAsRollback(deps, d, lost.message, finalPhase, state ? weightsInRegistry(deps, state) : d.weights);
}

/** Why the run may not touch traffic any more, or null while it holds the service. */
async function lostLock(deps: CanaryDeps, d: Deployment): Promise<LockLostError | null> {
  try {
    await holdLock(deps, d);
    return null;
  } catch (error) {
    if (error instanceof LockLostError) return error;
    throw error;
  }
}

/** Finished now as a rollback for `reason`, traffic left as it is (`weights`: what it is). */
function finishedAsRollback(deps: CanaryDeps, d: Deployment, reason: string, finalPhase: 'ROLLED_BACK' | 'CANCELED' | 'FAILED', weights = d.weights): Deployment {
  const now = deps.clock.now();
  return finished(revise(d, { run: { ...d.run, outcome: { kind: 'rollback', reason, finalPhase } } }, now), weights, now);
}

/** `Error: cause`, as Step Functions reports a caught error (the Cause of a Lambda error is its JSON). */
function describeFailure(input: TaskInput): string {
  const name = input.error?.Error ?? 'an error';
  const cause = input.error?.Cause;
  if (!cause) return name;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return `${name}: ${parsed.errorMessage ?? cause}`;
  } catch {
    return `${name}: ${cause}`;
  }
}
