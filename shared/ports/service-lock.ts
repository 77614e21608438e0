/**
 * One deployment per service at a time. A lock has an owner and a lease: a holder that crashes
 * stops renewing, its lease runs out, and another owner may take the lock over. `fencingToken`
 * grows every time the lock changes hands (a renewal by its holder keeps it), so a holder that
 * lost the lock, even for a while, can tell, and its late writes can be refused (registry splits
 * carry it: domain/mesh.ts GroupSplit).
 */
export interface LockGrant {
  service: string;
  owner: string;
  leaseExpiresAt: string;
  fencingToken: number;
}

export interface LockRequest {
  service: string;
  owner: string;
  now: Date;
  leaseMs: number;
}

export interface ServiceLockStore {
  /**
   * Grants the lock when it is free, its lease has expired at `now`, or `owner` already holds it
   * (then the lease is extended and the fencing token kept: acquire doubles as renew, so a retried
   * acquire is harmless). Taking it from no one or from an expired holder gives a larger token.
   * Throws ConflictError naming the holder otherwise, DependencyUnavailableError.
   */
  acquire(request: LockRequest): Promise<LockGrant>;

  /** Releases the lock if `owner` holds it. Idempotent: 'not-held' when it does not (any more). */
  release(service: string, owner: string): Promise<'released' | 'not-held'>;

  /** The current grant, expired or not; undefined when nobody ever held it or it was released. */
  get(service: string): Promise<LockGrant | undefined>;
}
