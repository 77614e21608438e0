/**
 * Fenced traffic, retries shown in progress, and continuation (shared/usecases/canary/) on fakes:
 * - a run that lost its service (another deployment took the lock, even if it gave it back since)
 *   moves no traffic again and ends saying why;
 * - a split written under a newer lock is never overwritten by an older holder;
 * - a task the state machine retries is noted on the deployment without a new version;
 * - `continue` records the successor execution once.
 * The same sequences against DynamoDB Local, a real HAProxy and published snapshots:
 * test/integration/split-brain.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, LockLostError } from '../../../../shared/domain/errors.js';
import type { ProxyGroup, Split } from '../../../../shared/domain/mesh.js';
import type { TrafficRouter, Verification, VersionEndpoints } from '../../../../shared/ports/traffic-router.js';
import type { CanaryDeps } from '../../../../shared/usecases/canary/deps.js';
import { runCanaryTask, type TaskOutput } from '../../../../shared/usecases/canary/run-task.js';
import { makeDeployment } from '../../../support/deployments.js';
import { rejectionOf } from '../../../support/errors.js';
import { fakeHttpDeps, type FakeHttpDeps } from '../../../support/fakes.js';
import { TEST_PROXY_GROUPS } from '../../../support/mesh-fakes.js';

const GROUP = TEST_PROXY_GROUPS.find((g) => g.kind === 'haproxy')!;

class Router implements TrafficRouter {
  readonly applied: Split[] = [];
  failure: Error | undefined;
  async applySplit(_group: ProxyGroup, _service: string, _backend: readonly VersionEndpoints[], split: Split): Promise<void> {
    if (this.failure) throw this.failure;
    this.applied.push({ ...split });
  }
  async verifySplit(): Promise<Verification> {
    return { state: 'converged' };
  }
}

interface Rig {
  deps: FakeHttpDeps & CanaryDeps;
  router: Router;
}

async function rig(budget?: CanaryDeps['retryBudget']): Promise<Rig> {
  const router = new Router();
  const deps = { ...fakeHttpDeps({ proxyGroups: [GROUP], routers: { haproxy: router } }), ...(budget ? { retryBudget: budget } : {}) };
  return { deps, router };
}

/** A deployment created (locked) and prepared; answers the task output that asks for the first shift. */
async function prepared(r: Rig, steps = [{ kind: 'setWeight' as const, canaryPercent: 10, wave: null }, { kind: 'setWeight' as const, canaryPercent: 100, wave: null }]): Promise<{ id: string; out: TaskOutput }> {
  const d = makeDeployment({ steps });
  await r.deps.deployments.createIfAbsent(d);
  await r.deps.locks.acquire({ service: d.service, owner: d.id, now: r.deps.clock.now(), leaseMs: r.deps.settings.lockLeaseMs });
  const decided = await runCanaryTask(r.deps, { action: 'decide', deploymentId: d.id });
  const out = await runCanaryTask(r.deps, { action: 'prepare', deploymentId: d.id, expect: decided.next });
  expect(out.next.kind).toBe('shift');
  return { id: d.id, out };
}

describe('a run that lost its service', () => {
  it('another deployment holds the lock (the lease ran out): the shift is refused with LockLostError, nothing applied or written', async () => {
    const r = await rig();
    const { id, out } = await prepared(r);
    r.deps.clock.advance(r.deps.settings.lockLeaseMs + 1);
    await r.deps.locks.acquire({ service: 'checkout', owner: 'dep_B', now: r.deps.clock.now(), leaseMs: 60_000 });
    const applied = r.router.applied.length;
    const registryWrites = r.deps.registry.writeAttempts;

    const error = await rejectionOf(runCanaryTask(r.deps, { action: 'shift', deploymentId: id, expect: out.next }));

    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).message).toMatch(/lost service checkout: service checkout is locked by dep_B/);
    expect(r.router.applied).toHaveLength(applied);
    expect(r.deps.registry.writeAttempts).toBe(registryWrites);
    expect(await r.deps.locks.get('checkout')).toMatchObject({ owner: 'dep_B' });
  });

  it('the lock changed hands and came free again: taken back with a larger token, so the run gives it back and moves nothing', async () => {
    const r = await rig();
    const { id, out } = await prepared(r);
    r.deps.clock.advance(r.deps.settings.lockLeaseMs + 1);
    await r.deps.locks.acquire({ service: 'checkout', owner: 'dep_B', now: r.deps.clock.now(), leaseMs: 60_000 });
    await r.deps.locks.release('checkout', 'dep_B');
    const applied = r.router.applied.length;

    const error = await rejectionOf(runCanaryTask(r.deps, { action: 'shift', deploymentId: id, expect: out.next }));

    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).message).toContain('the lock changed hands since this run prepared');
    expect(r.router.applied).toHaveLength(applied);
    // Given back: the service is free for whoever deploys next.
    expect(await r.deps.locks.get('checkout')).toBeUndefined();
  });

  it('after the failure, the run ends (Recover → Rollback) without touching traffic and says why', async () => {
    const r = await rig();
    const { id } = await prepared(r);
    r.deps.clock.advance(r.deps.settings.lockLeaseMs + 1);
    await r.deps.locks.acquire({ service: 'checkout', owner: 'dep_B', now: r.deps.clock.now(), leaseMs: 60_000 });
    const splits = (await r.deps.registry.getService('checkout'))!.splits;
    const applied = r.router.applied.length;

    const recovered = await runCanaryTask(r.deps, { action: 'recover', deploymentId: id, error: { Error: 'LockLostError', Cause: JSON.stringify({ errorMessage: 'lost' }) } });
    // Nothing will be rolled back, and the recorded reason does not say it will.
    expect((await r.deps.deployments.get(id))!.run.outcome).toEqual({ kind: 'rollback', reason: 'LockLostError: lost', finalPhase: 'FAILED' });
    const rolled = await runCanaryTask(r.deps, { action: 'rollback', deploymentId: id, expect: recovered.next });

    expect(rolled.next.kind).toBe('release');
    const after = (await r.deps.deployments.get(id))!;
    expect(after.phase).toBe('FAILED');
    expect(String(after.result!['reason'])).toContain('lost service checkout');
    // Its weights are the registry's now (the holder's), not what this run last asked for.
    expect(after.weights).toEqual({ gcp: splits[0]!.weights });
    expect(after.result!['weights']).toEqual({ gcp: splits[0]!.weights });
    expect(r.router.applied).toHaveLength(applied);
    expect((await r.deps.registry.getService('checkout'))!.splits).toEqual(splits);
  });
});

describe('splits are fenced', () => {
  it('every split a run writes carries its fencing token', async () => {
    const r = await rig();
    const { id, out } = await prepared(r);
    await runCanaryTask(r.deps, { action: 'shift', deploymentId: id, expect: out.next });
    const token = (await r.deps.deployments.get(id))!.run.fencingToken;
    expect(token).toBe((await r.deps.locks.get('checkout'))!.fencingToken);
    expect((await r.deps.registry.getService('checkout'))!.splits.map((s) => s.fencingToken)).toEqual([token]);
  });

  it('a split written under a newer lock refuses the older holder’s shift: LockLostError, the split unchanged', async () => {
    const r = await rig();
    const { id, out } = await prepared(r);
    const mine = (await r.deps.deployments.get(id))!.run.fencingToken!;
    const [split] = (await r.deps.registry.getService('checkout'))!.splits;
    const newer = { ...split!, weights: { 'v1.4.0': 90, v3: 10 }, revision: split!.revision + 1, fencingToken: mine + 1 };
    await r.deps.registry.putSplit(newer);

    const error = await rejectionOf(runCanaryTask(r.deps, { action: 'shift', deploymentId: id, expect: out.next }));

    expect(error).toBeInstanceOf(LockLostError);
    expect((error as Error).message).toContain(`fencing token ${mine + 1} > ${mine}`);
    expect((await r.deps.registry.getService('checkout'))!.splits).toEqual([newer]);
  });

  it('a newer holder that writes after the run renewed its lock (the lease ran out meanwhile) ends a rollback or a promotion FAILED, the split theirs', async () => {
    for (const end of ['rollback', 'promote'] as const) {
      const r = await rig();
      // One step: once it has converged, the promotion is next.
      const { id, out } = await prepared(r, [{ kind: 'setWeight', canaryPercent: 10, wave: null }]);
      const shifted = await runCanaryTask(r.deps, { action: 'shift', deploymentId: id, expect: out.next });
      const converged = await runCanaryTask(r.deps, { action: 'converge', deploymentId: id, expect: shifted.next });
      const mine = (await r.deps.deployments.get(id))!.run.fencingToken!;
      // The lock still answers this run's token; only the registry knows of the newer holder.
      const [split] = (await r.deps.registry.getService('checkout'))!.splits;
      const newer = { ...split!, weights: { 'v1.4.0': 90, v3: 10 }, revision: split!.revision + 1, fencingToken: mine + 1 };
      await r.deps.registry.putSplit(newer);
      const applied = r.router.applied.length;

      const decided = end === 'promote' ? converged : await runCanaryTask(r.deps, { action: 'recover', deploymentId: id, error: { Error: 'NotConvergedError', Cause: JSON.stringify({ errorMessage: 'slow' }) } });
      expect(decided.next.kind, end).toBe(end);
      const ended = await runCanaryTask(r.deps, { action: end, deploymentId: id, expect: decided.next });

      expect(ended.next.kind, end).toBe('release');
      const after = (await r.deps.deployments.get(id))!;
      expect(after.phase, end).toBe('FAILED');
      expect(String(after.result!['reason']), end).toContain(`written under a newer lock (fencing token ${mine + 1} > ${mine})`);
      expect(r.router.applied, end).toHaveLength(applied);
      expect((await r.deps.registry.getService('checkout'))!.splits, end).toEqual([newer]);
    }
  });

  it('the registry itself refuses an older token, and a write carrying none, over a fenced split', async () => {
    const r = await rig();
    await prepared(r);
    const [split] = (await r.deps.registry.getService('checkout'))!.splits;
    await expect(r.deps.registry.putSplit({ ...split!, revision: split!.revision + 1, fencingToken: split!.fencingToken! - 1 })).rejects.toThrow(/fenced/);
    const { fencingToken: _dropped, ...unfenced } = split!;
    await expect(r.deps.registry.putSplit({ ...unfenced, revision: split!.revision + 1 })).rejects.toThrow(/fenced/);
  });
});

describe('a task the state machine retries', () => {
  it('is noted on the deployment without a new version, its attempt counted against the definition’s budget', async () => {
    const r = await rig((action, errorName) => (action === 'shift' && errorName === 'DependencyUnavailableError' ? 7 : null));
    const { id, out } = await prepared(r);
    r.router.failure = new DependencyUnavailableError('HAProxy hap1', 'set server weight');

    await expect(runCanaryTask(r.deps, { action: 'shift', deploymentId: id, expect: out.next })).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(runCanaryTask(r.deps, { action: 'shift', deploymentId: id, expect: out.next })).rejects.toBeInstanceOf(DependencyUnavailableError);
    const noted = (await r.deps.deployments.get(id))!;

    expect(noted.version).toBe(out.next.atVersion);
    expect(noted.retrying).toMatchObject({ action: 'shift', atVersion: out.next.atVersion, attempt: 3, maxAttempts: 7, reason: 'HAProxy hap1: set server weight failed' });

    r.router.failure = undefined;
    const shifted = await runCanaryTask(r.deps, { action: 'shift', deploymentId: id, expect: out.next });
    // The write that lands ends the note.
    expect(shifted.next.kind).toBe('converge');
    expect((await r.deps.deployments.get(id))!.retrying).toBeUndefined();
  });
});

describe('continue', () => {
  it('records the successor execution once; a retry answers the same successor', async () => {
    const r = await rig();
    const { id } = await prepared(r);

    const first = await runCanaryTask(r.deps, { action: 'continue', deploymentId: id, execution: id, loop: 200 });
    const retry = await runCanaryTask(r.deps, { action: 'continue', deploymentId: id, execution: id, loop: 200 });
    const next = await runCanaryTask(r.deps, { action: 'continue', deploymentId: id, execution: `${id}-2`, loop: 200 });

    expect(first).toMatchObject({ successor: `${id}-2`, loop: 201 });
    expect(retry.successor).toBe(`${id}-2`);
    expect(next.successor).toBe(`${id}-3`);
    expect(r.deps.audit.all().filter((e) => e.action === 'deployment.continue').map((e) => e.details['execution'])).toEqual([`${id}-2`, `${id}-3`]);
  });
});
