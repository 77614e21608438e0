/**
 * The deployments whose run has not ended (released its lock): what the sweeper
 * (usecases/resume-runs.ts) walks to drive every unfinished run to its end. A deployment is marked
 * before it is created and unmarked after its lock is released, so a crash at any instant leaves at
 * worst a mark without a deployment (removed by the sweeper after a grace period) or a mark of a
 * finished one (removed when seen), never an unfinished deployment without a mark.
 */
export interface ActiveRun {
  deploymentId: string;
  markedAt: string;
}

export interface ActiveRuns {
  /**
   * Idempotent; the latest mark's time stands, so a retried creation restarts the sweeper's grace
   * period and changes what `unmark(id, ifMarkedAt)` compares with. Throws DependencyUnavailableError.
   */
  mark(deploymentId: string, at: string): Promise<void>;
  /**
   * Idempotent: unmarking what is not marked is a no-op. With `ifMarkedAt`, only a mark of that
   * time is removed: the sweeper removes the mark it judged an orphan's, not one a creation made
   * since (which then writes its deployment). Throws DependencyUnavailableError.
   */
  unmark(deploymentId: string, ifMarkedAt?: string): Promise<void>;
  /** Every mark, oldest first (a bounded set: at most one running deployment per service). */
  list(): Promise<ActiveRun[]>;
}
