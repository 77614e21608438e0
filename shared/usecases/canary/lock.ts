/**
 * The service's lock, held by the deployment (owner = its id) from creation to release. Every task
 * where time passes renews it (acquire doubles as renew), so a run that dies stops renewing and the
 * lease frees the service on its own.
 */
import type { Deployment } from '../../domain/deployment.js';
import type { LockGrant } from '../../ports/service-lock.js';
import type { CanaryDeps } from './deps.js';

/** Throws ConflictError naming the holder when another deployment holds the service. */
export function renewLock(deps: CanaryDeps, d: Deployment, leaseMs = deps.settings.lockLeaseMs): Promise<LockGrant> {
  return deps.locks.acquire({ service: d.service, owner: d.id, now: deps.clock.now(), leaseMs });
}
