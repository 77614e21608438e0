/**
 * What runs on a schedule besides requests, for the entry points that schedule it (the local stack;
 * in AWS and GCP the scheduled reconcile function): resuming unfinished runs, reconciling the mesh.
 */
import { reconcileMesh, type ReconcileReport } from '../usecases/reconcile-mesh.js';
import { resumeRuns, type ResumeReport } from '../usecases/resume-runs.js';
import type { RuntimeDeps } from './deps.js';

export type { ReconcileReport, ResumeReport };

export interface Maintenance {
  /** Starts again every unfinished run whose execution is not running (usecases/resume-runs.ts). */
  resumeRuns(graceMs?: number): Promise<ResumeReport>;
  /** Reconciles every service (usecases/reconcile-mesh.ts). */
  reconcile(): Promise<ReconcileReport>;
  /** Both, as a scheduled run does: runs first, so a resumed run's traffic is what reconciliation then checks. */
  scheduled(): Promise<{ runs: ResumeReport; mesh: ReconcileReport }>;
}

export function maintenance(deps: RuntimeDeps): Maintenance {
  return {
    resumeRuns: (graceMs) => resumeRuns(deps, graceMs === undefined ? {} : { graceMs }),
    reconcile: () => reconcileMesh(deps, {}),
    scheduled: async () => ({ runs: await resumeRuns(deps), mesh: await reconcileMesh(deps, {}) }),
  };
}
