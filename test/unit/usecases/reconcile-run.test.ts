/**
 * usecases/reconcile-run.ts: a reconcile run of every service walks the registry in shards with a
 * cursor, records each shard with one conditional write, holds one run at a time, and goes on from
 * its cursor after its driver dies.
 */
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../../../shared/domain/errors.js';
import { afterShard, type ReconcileRun } from '../../../shared/domain/reconcile-run.js';
import { driveReconcileRun, startReconcileRun } from '../../../shared/usecases/reconcile-run.js';
import { rejectionOf } from '../../support/errors.js';
import { fakeHttpDeps, type FakeHttpDeps } from '../../support/fakes.js';
import { aws, ep, registered } from '../../support/mesh-builders.js';
import { InMemoryMeshRegistry } from '../../support/mesh-fakes.js';
import { InMemoryReconcileRuns } from '../../support/reconcile-run-fakes.js';

const SERVICES = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'];

function depsWithServices(extra: Partial<FakeHttpDeps> = {}): FakeHttpDeps & { registry: InMemoryMeshRegistry; reconcileRuns: InMemoryReconcileRuns } {
  const registry = InMemoryMeshRegistry.with(SERVICES.map((service, i) => registered(service, 'v1', aws(ep(`10.0.${i}.1`)))));
  return fakeHttpDeps({ registry, reconcileRuns: new InMemoryReconcileRuns(), proxyGroups: [], ...extra }) as FakeHttpDeps & { registry: InMemoryMeshRegistry; reconcileRuns: InMemoryReconcileRuns };
}

describe('a reconcile run of every service', () => {
  it('walks the registry shard by shard, recording the cursor after each, and frees the slot when finished', async () => {
    const deps = depsWithServices();
    const { run, started } = await startReconcileRun(deps, { actor: 'admin', reason: 'after the incident' });
    expect(started).toBe(true);
    expect(run).toMatchObject({ status: 'running', cursor: null, shardsDone: 0, requestedBy: { actor: 'admin', reason: 'after the incident' } });
    expect(await deps.reconcileRuns.active()).toBe(run.id);

    const driven = await driveReconcileRun(deps, run.id, { holder: 'p1', shardSize: 3 });
    expect(driven.outcome).toBe('finished');
    expect(driven.run).toMatchObject({ status: 'finished', cursor: 'golf', shardsDone: 3, servicesSeen: 7, errors: 0, failures: [], finishedAt: deps.clock.now().toISOString(), lease: null });
    expect(await deps.reconcileRuns.active()).toBeUndefined();
    const shards = deps.logger.lines.filter((l) => l.message === 'reconcile shard recorded').map((l) => l.fields?.['cursor']);
    expect(shards).toEqual(['charlie', 'foxtrot', 'golf']);
  });

  it('runs one at a time: a second start joins the run under way', async () => {
    const deps = depsWithServices();
    const first = await startReconcileRun(deps, { actor: 'admin', reason: null });
    const second = await startReconcileRun(deps, { actor: 'ops', reason: 'again' });
    expect(second).toEqual({ run: first.run, started: false });
    await driveReconcileRun(deps, first.run.id, { holder: 'p1' });
    const third = await startReconcileRun(deps, null);
    expect(third.started).toBe(true);
    expect(third.run.id).not.toBe(first.run.id);
  });

  it('pauses when told to, letting go of its lease, and another driver goes on from the cursor', async () => {
    const deps = depsWithServices();
    const { run } = await startReconcileRun(deps, null);
    let shardsAllowed = 1;
    const paused = await driveReconcileRun(deps, run.id, { holder: 'invocation-1', shardSize: 2, keepGoing: () => shardsAllowed-- > 0 });
    expect(paused.outcome).toBe('paused');
    expect(paused.run).toMatchObject({ status: 'running', cursor: 'bravo', shardsDone: 1, servicesSeen: 2, lease: null });

    const resumed = await driveReconcileRun(deps, run.id, { holder: 'invocation-2', shardSize: 2 });
    expect(resumed.run).toMatchObject({ status: 'finished', shardsDone: 4, servicesSeen: 7 });
  });

  it('after its driver dies, waits for the lease to run out, then goes on from the cursor, redoing only the unrecorded shard', async () => {
    const deps = depsWithServices();
    const { run } = await startReconcileRun(deps, null);
    // The driver dies (here: throws) after reconciling its second shard, before recording it.
    const dying = { ...deps, crashPoints: { reached: (name: string) => { if (name === 'reconcile:before-record:shard2') throw new Error('SIGKILL'); } } };
    expect(await rejectionOf(driveReconcileRun(dying, run.id, { holder: 'dead', shardSize: 3, leaseMs: 60_000 }))).toMatchObject({ message: 'SIGKILL' });
    expect(await deps.reconcileRuns.get(run.id)).toMatchObject({ cursor: 'charlie', shardsDone: 1, lease: { holder: 'dead' } });

    expect((await driveReconcileRun(deps, run.id, { holder: 'next', shardSize: 3 })).outcome).toBe('held-elsewhere');
    deps.clock.advance(60_000);
    const taken = await driveReconcileRun(deps, run.id, { holder: 'next', shardSize: 3 });
    expect(taken.run).toMatchObject({ status: 'finished', cursor: 'golf', shardsDone: 3, servicesSeen: 7 });
    const recorded = deps.logger.lines.filter((l) => l.message === 'reconcile shard recorded').map((l) => l.fields?.['cursor']);
    expect(recorded).toEqual(['charlie', 'foxtrot', 'golf']);
  });

  it('counts a service that fails and names it, and carries on with the others', async () => {
    const deps = depsWithServices();
    deps.registry.failNext('getService', new DependencyUnavailableError('DynamoDB table t', 'read mesh state of service alpha'));
    const { run } = await startReconcileRun(deps, null);
    const driven = await driveReconcileRun(deps, run.id, { holder: 'p1', shardSize: 10 });
    expect(driven.run).toMatchObject({ status: 'finished', servicesSeen: 7, errors: 1, shardsDone: 1 });
    expect(driven.run?.failures).toEqual([{ service: expect.any(String), reason: expect.stringContaining('DependencyUnavailableError') }]);
  });

  it('a driver that loses the race to record a shard reads the winner’s record and leaves the run to it', async () => {
    const deps = depsWithServices();
    const { run } = await startReconcileRun(deps, null);
    const runs = deps.reconcileRuns;
    // Another driver, having taken the run over, records the first shard while this one reconciles it.
    let taken = false;
    const racing = Object.assign(Object.create(runs) as InMemoryReconcileRuns, {
      update: async (next: ReconcileRun) => {
        if (!taken && next.shardsDone === 1) {
          taken = true;
          const current = (await runs.get(next.id))!;
          await runs.update(afterShard(current, { services: ['alpha', 'bravo', 'charlie'], drifted: 0, repairs: 0, failures: [] }, 'other', deps.clock.now(), 60_000));
        }
        return runs.update(next);
      },
    });
    const driven = await driveReconcileRun({ ...deps, reconcileRuns: racing }, run.id, { holder: 'p1', shardSize: 3 });
    expect(driven.outcome).toBe('held-elsewhere');
    expect(driven.run).toMatchObject({ shardsDone: 1, cursor: 'charlie', lease: { holder: 'other' } });
  });
});
