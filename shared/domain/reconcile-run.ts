/**
 * A reconcile run: the scheduled (or requested) walk of the whole registry, one shard of services
 * at a time, with a cursor, so no single invocation has to hold 10,000 services and a run whose
 * process dies goes on from the shard after the last one it recorded. Pure: times come in.
 */
export interface ReconcileFailure {
  service: string;
  reason: string;
}

/** What the run's last shard found for each Envoy group (their snapshots span every service). */
export interface ReconcileEnvoyGroup {
  proxyGroup: string;
  findings: number;
  published: boolean;
}

export interface ReconcileRun {
  /** `rec_` + 26 characters, sortable by creation time. */
  id: string;
  status: 'running' | 'finished';
  /** The last service of the last shard recorded; null: no shard done yet. */
  cursor: string | null;
  shardsDone: number;
  servicesSeen: number;
  /** Services with at least one finding. */
  drifted: number;
  /** Services with at least one repair. */
  repairs: number;
  /** Services whose reconciliation failed. */
  errors: number;
  /** The first failures, at most MAX_RECORDED_FAILURES (the log has every one). */
  failures: ReconcileFailure[];
  /** Set by the last shard. */
  envoyGroups: ReconcileEnvoyGroup[];
  requestedBy: { actor: string; reason: string | null } | null;
  startedAt: string;
  finishedAt: string | null;
  /** Who drives the run, until when: another driver takes it over only once the lease has run out. */
  lease: { holder: string; until: string } | null;
  /** Optimistic lock: every write is conditional on the revision read. */
  revision: number;
}

export const MAX_RECORDED_FAILURES = 20;

export function newReconcileRun(id: string, startedAt: string, requestedBy: ReconcileRun['requestedBy']): ReconcileRun {
  return { id, status: 'running', cursor: null, shardsDone: 0, servicesSeen: 0, drifted: 0, repairs: 0, errors: 0, failures: [], envoyGroups: [], requestedBy, startedAt, finishedAt: null, lease: null, revision: 1 };
}

/** Whether `holder` may drive the run at `now`: it is running and its lease is free, run out, or already `holder`'s. */
export function mayDrive(run: ReconcileRun, holder: string, now: Date): boolean {
  return run.status === 'running' && (run.lease === null || run.lease.holder === holder || Date.parse(run.lease.until) <= now.getTime());
}

export function withLease(run: ReconcileRun, holder: string, now: Date, leaseMs: number): ReconcileRun {
  return { ...run, lease: { holder, until: new Date(now.getTime() + leaseMs).toISOString() }, revision: run.revision + 1 };
}

export interface ShardOutcome {
  /** The shard's services, in name order. */
  services: readonly string[];
  drifted: number;
  repairs: number;
  failures: readonly ReconcileFailure[];
  /** Present on the last shard: the run is then finished. */
  last?: { envoyGroups: ReconcileEnvoyGroup[] };
}

/** The run once `shard` is recorded: the cursor moves past it, the counts grow, the lease is renewed (or dropped at the end). */
export function afterShard(run: ReconcileRun, shard: ShardOutcome, holder: string, now: Date, leaseMs: number): ReconcileRun {
  const next: ReconcileRun = {
    ...run,
    cursor: shard.services.at(-1) ?? run.cursor,
    shardsDone: run.shardsDone + 1,
    servicesSeen: run.servicesSeen + shard.services.length,
    drifted: run.drifted + shard.drifted,
    repairs: run.repairs + shard.repairs,
    errors: run.errors + shard.failures.length,
    failures: [...run.failures, ...shard.failures].slice(0, MAX_RECORDED_FAILURES),
    lease: { holder, until: new Date(now.getTime() + leaseMs).toISOString() },
    revision: run.revision + 1,
  };
  return shard.last ? { ...next, status: 'finished', finishedAt: now.toISOString(), envoyGroups: shard.last.envoyGroups, lease: null } : next;
}
