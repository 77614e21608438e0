import type { Deployment, DeploymentStatus, RetryNote } from '../domain/deployment.js';
import type { Page, PageRequest } from './page.js';

export interface DeploymentQuery extends PageRequest {
  /** Only this service's deployments; undefined: every service. */
  service?: string;
  /** Only deployments whose derived status is this one. */
  status?: DeploymentStatus;
}

/**
 * Where deployments live. Every write is conditional, so two writers can never silently overwrite
 * each other. All methods throw DependencyUnavailableError (retryable) when the store cannot be
 * reached or throttles.
 */
export interface DeploymentStore {
  /**
   * Stores `deployment` (at version 1) unless a deployment with its id exists. Idempotent: returns
   * 'exists' and changes nothing when the id is taken (a replay, or a retried task).
   */
  createIfAbsent(deployment: Deployment): Promise<'created' | 'exists'>;

  /** A strongly consistent read. undefined: no deployment has this id. */
  get(id: string): Promise<Deployment | undefined>;

  /**
   * Replaces the stored deployment with `next` only if the stored one is at `next.version - 1`.
   * Throws VersionConflictError (retryable: re-read, re-decide, retry) when it is not, or when the
   * deployment does not exist. A replay of a write that already landed therefore also throws it.
   */
  update(next: Deployment): Promise<void>;

  /**
   * Notes a task being retried on the deployment at `note.atVersion`, without a new version (a new
   * version would make the retried task stale). A no-op when the deployment moved on.
   */
  noteRetry(id: string, note: RetryNote): Promise<void>;

  /**
   * Deletes a deployment that never started (still at version 1): a creation refused after its
   * deployment was written. 'started' when it moved on (it will run to its end instead).
   */
  deleteUnstarted(id: string): Promise<'deleted' | 'started' | 'absent'>;

  /** Newest first. A cursor from another query is rejected with ValidationError (field `cursor`). */
  list(query: DeploymentQuery): Promise<Page<Deployment>>;
}
