/**
 * Reconcile runs (domain/reconcile-run.ts) and the one-at-a-time slot: at most one run of every
 * service is under way, so a second request, or the schedule, joins it instead of starting another.
 * All methods throw DependencyUnavailableError (retryable) when the store cannot be reached.
 */
import type { ReconcileRun } from '../domain/reconcile-run.js';

export interface ReconcileRuns {
  /** undefined: no run of that id. */
  get(id: string): Promise<ReconcileRun | undefined>;

  /** Stores a new run (revision 1). Idempotent by id: 'existed' when one of that id is stored, unchanged. */
  create(run: ReconcileRun): Promise<'created' | 'existed'>;

  /** Replaces the stored run if it is at `run.revision - 1`; VersionConflictError otherwise (someone else recorded first). */
  update(run: ReconcileRun): Promise<void>;

  /** Claims the slot for `id` when it is free; answers the id that holds it (`id` itself, or the run under way). Idempotent. */
  claimActive(id: string): Promise<string>;

  /** The id holding the slot; undefined: no run under way. */
  active(): Promise<string | undefined>;

  /** Frees the slot if `id` holds it; a no-op otherwise (idempotent). */
  releaseActive(id: string): Promise<void>;
}
