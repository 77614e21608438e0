/**
 * What runs on a schedule besides requests, for the entry points that schedule it (the local stack;
 * in AWS and GCP the scheduled reconcile function): resuming unfinished runs, reconciling the mesh
 * as a run in shards (usecases/reconcile-run.ts).
 */
import type { ReconcileRun } from '../domain/reconcile-run.js';
import type { ReconcileReport } from '../usecases/reconcile-mesh.js';
import { driveReconcileRun, startReconcileRun, type DriveOutcome } from '../usecases/reconcile-run.js';
import { resumeRuns, type ResumeReport } from '../usecases/resume-runs.js';
import type { RuntimeDeps } from './deps.js';

export type { ReconcileReport, ResumeReport };

export interface DrivenRun {
  run: ReconcileRun | undefined;
  outcome: DriveOutcome;
}

export interface MaintenanceOptions {
  /** How long a driver holds a run between shards (default usecases/reconcile-run.ts DEFAULT_LEASE_MS). */
  leaseMs?: number;
  /** Services per shard (default SHARD_SIZE). */
  shardSize?: number;
}

export interface Maintenance {
  /** Starts again every unfinished run whose execution is not running (usecases/resume-runs.ts). */
  resumeRuns(graceMs?: number): Promise<ResumeReport>;
  /** Starts a reconcile run of every service (or joins the one under way) and drives it while `keepGoing` says so (default: to its end). */
  reconcile(keepGoing?: () => boolean): Promise<DrivenRun>;
  /** Drives the run `id` on from its cursor: a continuation, or the run a dead process left. */
  continueReconcile(id: string, options?: { keepGoing?: () => boolean; ignoreLease?: boolean }): Promise<DrivenRun>;
  /**
   * The run under way, driven on (the local stack at start); undefined: none. A run under another
   * driver's lease (one a dead process may have left) is tried again once that lease runs out, for
   * as long as `keepGoing` says so: a restart quicker than the lease must not leave the run undriven.
   */
  resumeReconcile(options?: { ignoreLease?: boolean; keepGoing?: () => boolean }): Promise<DrivenRun | undefined>;
  /** Both, as a scheduled run does: runs first, so a resumed run's traffic is what reconciliation then checks. */
  scheduled(keepGoing?: () => boolean): Promise<{ runs: ResumeReport; mesh: DrivenRun }>;
}

export function maintenance(deps: RuntimeDeps, options: MaintenanceOptions = {}): Maintenance {
  // This process (or warm Lambda instance), as a lease holder: unique, like a deployment id.
  const holder = `drv_${deps.ids.deploymentId().slice('dep_'.length)}`;
  const drive = (id: string, extra: { keepGoing?: () => boolean; ignoreLease?: boolean } = {}) =>
    driveReconcileRun(deps, id, { holder, ...options, ...extra });
  const reconcile = async (keepGoing?: () => boolean) => {
    const { run } = await startReconcileRun(deps, null);
    return drive(run.id, keepGoing ? { keepGoing } : {});
  };
  return {
    resumeRuns: (graceMs) => resumeRuns(deps, graceMs === undefined ? {} : { graceMs }),
    reconcile,
    continueReconcile: drive,
    async resumeReconcile(extra = {}) {
      for (;;) {
        const id = await deps.reconcileRuns.active();
        if (id === undefined) return undefined;
        const driven = await drive(id, extra);
        const lease = driven.run?.lease;
        if (driven.outcome !== 'held-elsewhere' || !lease || extra.keepGoing?.() === false) return driven;
        await leaseRunsOut(Date.parse(lease.until) - deps.clock.now().getTime());
      }
    },
    scheduled: async (keepGoing) => ({ runs: await resumeRuns(deps), mesh: await reconcile(keepGoing) }),
  };
}

/** Waits until a lease `remainingMs` from now has run out (and a little more), without keeping the process alive. */
function leaseRunsOut(remainingMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, remainingMs) + LEASE_MARGIN_MS).unref());
}

/** Past the lease's end, so the clocks of two processes need not agree to the millisecond. */
const LEASE_MARGIN_MS = 250;
