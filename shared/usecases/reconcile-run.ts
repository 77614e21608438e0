/**
 * Reconciliation of every service as a run in shards (domain/reconcile-run.ts): the registry is
 * walked `SHARD_SIZE` services at a time after the run's cursor; each shard is reconciled as
 * reconcile-mesh.ts reconciles a service (endpoints, HAProxy groups), then recorded with one
 * conditional write that moves the cursor; the last shard also republishes and checks the Envoy
 * groups, whose snapshots span every service. One run at a time: a second start joins the run
 * under way. A driver holds a lease on the run while it works: a driver that dies leaves the run
 * where its last recorded shard put it, and the next one (the schedule, a restarted process) goes
 * on from there once the lease has run out. A shard whose record was lost is done again, which
 * changes nothing the second time (every repair is "make it so").
 */
import { InternalError, VersionConflictError } from '../domain/errors.js';
import { afterShard, mayDrive, newReconcileRun, withLease, type ReconcileEnvoyGroup, type ReconcileRun, type ShardOutcome } from '../domain/reconcile-run.js';
import type { CrashPoints } from '../ports/crash-points.js';
import type { IdGenerator } from '../ports/ids.js';
import type { ReconcileRuns } from '../ports/reconcile-runs.js';
import { reconcileEnvoyGroups, reconcileServices, type ReconcileDeps } from './reconcile-mesh.js';

/**
 * Services per shard: a shard costs about one registry Query per service plus one or two index
 * pages, so 250 keep an invocation's shard to a second or two on DynamoDB (docs/dataplane.md).
 */
export const SHARD_SIZE = 250;

/** How long a driver holds a run without recording a shard before another may take it over. */
export const DEFAULT_LEASE_MS = 60_000;

export interface ReconcileRunDeps extends ReconcileDeps {
  reconcileRuns: ReconcileRuns;
  ids: IdGenerator;
  crashPoints?: CrashPoints | undefined;
}

/**
 * The run of every service under way, or a new one when none is: `started` says which. Retry-safe:
 * a start that died between claiming the slot and writing its run is finished by the next start.
 */
export async function startReconcileRun(deps: ReconcileRunDeps, requestedBy: ReconcileRun['requestedBy']): Promise<{ run: ReconcileRun; started: boolean }> {
  // Same shape and order as deployment ids: `rec_` + time + randomness.
  const id = `rec_${deps.ids.deploymentId().slice('dep_'.length)}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const holder = await deps.reconcileRuns.claimActive(id);
    const stored = await deps.reconcileRuns.get(holder);
    if (stored?.status === 'finished') {
      // Finished, but its driver died before freeing the slot: free it for it, and claim again.
      await deps.reconcileRuns.releaseActive(holder);
      continue;
    }
    if (stored) return { run: stored, started: false };
    await deps.reconcileRuns.create(newReconcileRun(holder, deps.clock.now().toISOString(), requestedBy));
    const run = await deps.reconcileRuns.get(holder);
    if (run) return { run, started: holder === id };
  }
  throw new InternalError('could not claim the reconcile slot: runs kept finishing in between');
}

export interface DriveOptions {
  /** Who drives (a process, an invocation): the lease's holder. */
  holder: string;
  leaseMs?: number;
  shardSize?: number;
  /** Asked before each shard: false pauses the run where it is (an invocation near its timeout). */
  keepGoing?: () => boolean;
  /** Take the run over even under another holder's lease: only for a process that knows it is the store's only user. */
  ignoreLease?: boolean;
}

export type DriveOutcome = 'finished' | 'paused' | 'held-elsewhere' | 'absent';

/** Drives run `id` shard after shard until it is finished, paused by `keepGoing`, or held by a live driver elsewhere. */
export async function driveReconcileRun(deps: ReconcileRunDeps, id: string, options: DriveOptions): Promise<{ run: ReconcileRun | undefined; outcome: DriveOutcome }> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  let run = await deps.reconcileRuns.get(id);
  let ignoreLease = options.ignoreLease === true;
  for (;;) {
    if (!run) return { run, outcome: 'absent' };
    if (run.status === 'finished') {
      await deps.reconcileRuns.releaseActive(run.id);
      return { run, outcome: 'finished' };
    }
    if (!ignoreLease && !mayDrive(run, options.holder, deps.clock.now())) return { run, outcome: 'held-elsewhere' };
    if (options.keepGoing && !options.keepGoing()) return { run: await dropLease(deps, run, options.holder), outcome: 'paused' };
    try {
      // Claimed once; every recorded shard renews it.
      if (run.lease?.holder !== options.holder) {
        const leased = withLease(run, options.holder, deps.clock.now(), leaseMs);
        await deps.reconcileRuns.update(leased);
        run = leased;
        ignoreLease = false;
      }
      const shard = await reconcileShard(deps, run, options.shardSize ?? SHARD_SIZE);
      deps.crashPoints?.reached(`reconcile:before-record:shard${run.shardsDone + 1}`);
      const next = afterShard(run, shard, options.holder, deps.clock.now(), leaseMs);
      await deps.reconcileRuns.update(next);
      deps.crashPoints?.reached(`reconcile:after-record:shard${next.shardsDone}`);
      deps.logger.info('reconcile shard recorded', { run: next.id, shard: next.shardsDone, services: shard.services.length, cursor: next.cursor, drifted: shard.drifted, repairs: shard.repairs, errors: shard.failures.length });
      run = next;
    } catch (error) {
      // Another driver recorded first (it took over a lease that ran out): its record stands; read it and go on from there.
      if (!(error instanceof VersionConflictError)) throw error;
      run = await deps.reconcileRuns.get(id);
    }
  }
}

/** A paused driver lets go, so its continuation (another invocation) need not wait for the lease to run out. */
async function dropLease(deps: ReconcileRunDeps, run: ReconcileRun, holder: string): Promise<ReconcileRun> {
  if (run.lease?.holder !== holder) return run;
  const released = { ...run, lease: null, revision: run.revision + 1 };
  try {
    await deps.reconcileRuns.update(released);
    return released;
  } catch (error) {
    // Taken over meanwhile: the lease is someone else's already.
    if (error instanceof VersionConflictError) return run;
    throw error;
  }
}

/** Reconciles the shard after the run's cursor; on the last one, the Envoy groups too. */
async function reconcileShard(deps: ReconcileRunDeps, run: ReconcileRun, shardSize: number): Promise<ShardOutcome> {
  const page = await deps.registry.listServicesAfter(run.cursor ?? undefined, shardSize);
  const reports = await reconcileServices(deps, page.services);
  // The shard's own services' parts of the Envoy snapshots (publishing is incremental: an unchanged
  // part writes nothing), so no shard, the last included, publishes the whole registry.
  const groups = page.services.length > 0 ? await reconcileEnvoyGroups(deps, page.services) : [];
  const failures = reports.flatMap((r) => r.findings.flatMap((f) => (f.kind === 'failed' ? [{ service: r.service, reason: f.reason }] : [])));
  if (failures.length > 0) deps.logger.warn('services failed to reconcile', { run: run.id, failures });
  const outcome: ShardOutcome = {
    services: page.services,
    drifted: reports.filter((r) => r.findings.length > 0).length,
    repairs: reports.filter((r) => r.actions.length > 0).length,
    failures,
  };
  if (page.more) return outcome;
  const envoyGroups: ReconcileEnvoyGroup[] = groups.map((g) => ({ proxyGroup: g.proxyGroup, findings: g.findings.length, published: g.actions.length > 0 }));
  if (groups.some((g) => g.findings.length > 0)) deps.logger.warn('envoy groups reconciled with findings', { run: run.id, groups });
  return { ...outcome, last: { envoyGroups } };
}
