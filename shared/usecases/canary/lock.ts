/**
 * The service's lock, held by the deployment (owner = its id) from creation to release. Every task
 * of a live run renews it (acquire doubles as renew), so a run that dies stops renewing and the
 * lease frees the service on its own — unless the run is resumed first (usecases/resume-runs.ts).
 *
 * From prepare on, the run remembers the lock's fencing token. A renewal that answers another
 * token means the service changed hands since (the lease ran out, someone else deployed, maybe
 * released): the run has lost the service even though it holds the lock again, and must not move
 * traffic. It gives the lock back and ends (LockLostError).
 */
import type { Deployment } from '../../domain/deployment.js';
import { ConflictError, LockLostError } from '../../domain/errors.js';
import type { LockGrant } from '../../ports/service-lock.js';
import type { CanaryDeps } from './deps.js';

/** Renews the lock for `leaseMs`; throws ConflictError naming the holder when another deployment holds the service. */
export function renewLock(deps: CanaryDeps, d: Deployment, leaseMs = deps.settings.lockLeaseMs): Promise<LockGrant> {
  return deps.locks.acquire({ service: d.service, owner: d.id, now: deps.clock.now(), leaseMs });
}

/** Renews the lock and checks the run still holds the service it prepared with; throws LockLostError when it does not. */
export async function holdLock(deps: CanaryDeps, d: Deployment, leaseMs = deps.settings.lockLeaseMs): Promise<LockGrant> {
  let grant: LockGrant;
  try {
    grant = await renewLock(deps, d, leaseMs);
  } catch (error) {
    if (error instanceof ConflictError) throw new LockLostError(`deployment ${d.id} lost service ${d.service}: ${error.message}; traffic is left to ${error.holder ?? 'the holder'}`, error.holder);
    throw error;
  }
  const mine = d.run.fencingToken;
  if (mine !== null && grant.fencingToken !== mine) {
    // Taken again after someone else held it: give it back, and touch nothing.
    await deps.locks.release(d.service, d.id);
    throw new LockLostError(`deployment ${d.id} lost service ${d.service}: the lock changed hands since this run prepared (fencing token ${mine}, now ${grant.fencingToken}); traffic is left as the registry holds it`);
  }
  return grant;
}
