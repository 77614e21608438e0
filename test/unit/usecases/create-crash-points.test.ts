/**
 * A creation that dies at each of its writes (shared/usecases/create-deployment.ts), on fakes: the
 * process "dies" by throwing at the crash point, and nothing after it runs. Whatever the point:
 * - retried with the same key, the creation ends in exactly one deployment, locked by it, its
 *   `created` event recorded once, its run started;
 * - not retried, the sweeper either starts the deployment's run or removes a mark that names no
 *   deployment; never a lock held by a deployment that does not exist.
 * The same with real processes killed by SIGKILL is test/integration/chaos-create.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { CrashPoints } from '../../../shared/ports/crash-points.js';
import { createDeployment, type CreateDeploymentCommand } from '../../../shared/usecases/create-deployment.js';
import { resumeRuns } from '../../../shared/usecases/resume-runs.js';
import { fakeDeps, type FakeDeps } from '../../support/fakes.js';

const POINTS = ['create:after-claim', 'create:after-marker', 'create:after-deployment', 'create:after-lock', 'create:after-event'] as const;

class Died extends Error {}

/** Dies (throws) the first time `point` is reached. */
function dieOnceAt(point: string): CrashPoints & { died: boolean } {
  return {
    died: false,
    reached(name) {
      if (name !== point || this.died) return;
      this.died = true;
      throw new Died(`died at ${name}`);
    },
  };
}

function command(change: Partial<CreateDeploymentCommand> = {}): CreateDeploymentCommand {
  return {
    service: 'checkout',
    baseline: { version: 'v41' },
    canary: { version: 'v42' },
    targets: [],
    steps: [{ setWeight: 10 }, { pause: { duration: '1m' } }, { setWeight: 100 }],
    spinnaker: null,
    reason: null,
    actor: 'pipeline',
    idempotencyKey: 'exec-1-stage-1',
    requestHash: 'a'.repeat(64),
    ...change,
  };
}

async function invariants(deps: FakeDeps): Promise<void> {
  const lock = await deps.locks.get('checkout');
  // Never a lock held by a deployment that does not exist.
  if (lock) expect(await deps.deployments.get(lock.owner)).toBeDefined();
}

describe.each(POINTS)('a creation that dies at %s', (point) => {
  it('retried with the same key: exactly one deployment, locked by it, one created event, its run started', async () => {
    const deps = fakeDeps();
    const crash = dieOnceAt(point);
    deps.crashPoints = crash;

    await expect(createDeployment(deps, command())).rejects.toBeInstanceOf(Died);
    await invariants(deps);
    const retried = await createDeployment(deps, command());

    const all = deps.deployments.all();
    expect(all.map((d) => d.id)).toEqual([retried.deployment.id]);
    expect(await deps.locks.get('checkout')).toMatchObject({ owner: retried.deployment.id });
    expect(deps.audit.all().filter((e) => e.action === 'deployment.created')).toHaveLength(1);
    expect(deps.workflow.started).toContain(retried.deployment.id);
    expect((await deps.activeRuns.list()).map((m) => m.deploymentId)).toEqual([retried.deployment.id]);
  });

  it('never retried: the sweeper starts the deployment’s run, or removes a mark that names none; no orphan lock', async () => {
    const deps = fakeDeps();
    deps.crashPoints = dieOnceAt(point);
    await expect(createDeployment(deps, command())).rejects.toBeInstanceOf(Died);
    deps.clock.advance(60_000);

    await resumeRuns(deps, { graceMs: 60_000 });

    await invariants(deps);
    const stored = deps.deployments.all();
    const marks = await deps.activeRuns.list();
    if (stored.length === 0) {
      expect(marks).toEqual([]);
      expect(await deps.locks.get('checkout')).toBeUndefined();
    } else {
      expect(stored).toHaveLength(1);
      // Its run will take the lock at prepare (or end, naming whoever holds it).
      expect(deps.workflow.executions).toContain(stored[0]!.id);
      expect(marks.map((m) => m.deploymentId)).toEqual([stored[0]!.id]);
      // Whoever reads it next appends the created event a crash may have lost.
      expect(stored[0]!.run.lastChange).toMatchObject({ action: 'deployment.created', eventId: 'v000001-created' });
    }
  });
});

describe('a retry late enough for a sweep to run beside it', () => {
  // The first attempt died after its mark; the retry comes after the grace period. The sweeper has
  // read the old mark and found no deployment; the retry marks and creates before the sweeper
  // removes the mark it took for an orphan's. The run must stay marked, or a later death of its
  // process leaves it to nobody.
  it('keeps the run marked: the sweeper removes only the mark it judged, not the one the retry made', async () => {
    const deps = fakeDeps();
    deps.crashPoints = dieOnceAt('create:after-marker');
    await expect(createDeployment(deps, command())).rejects.toBeInstanceOf(Died);
    deps.clock.advance(90_000);
    let retried: Awaited<ReturnType<typeof createDeployment>> | undefined;
    const unmark = deps.activeRuns.unmark.bind(deps.activeRuns);
    deps.activeRuns.unmark = async (...args) => {
      retried ??= await createDeployment(deps, command());
      return unmark(...args);
    };

    await resumeRuns(deps, { graceMs: 60_000 });

    expect(retried).toBeDefined();
    expect(deps.deployments.all().map((d) => d.id)).toEqual([retried!.deployment.id]);
    expect((await deps.activeRuns.list()).map((m) => m.deploymentId)).toEqual([retried!.deployment.id]);
  });
});

describe('a creation refused because another deployment holds the service', () => {
  it('takes back what it wrote: no deployment, no mark, the key forgotten; 409 naming the holder', async () => {
    const deps = fakeDeps();
    await deps.locks.acquire({ service: 'checkout', owner: 'dep_holder', now: deps.clock.now(), leaseMs: 60_000 });

    const error = await createDeployment(deps, command()).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'ConflictError', holder: 'dep_holder' });
    expect(deps.deployments.all()).toEqual([]);
    expect(await deps.activeRuns.list()).toEqual([]);
    expect(await deps.idempotency.get('exec-1-stage-1')).toBeUndefined();
    expect(deps.workflow.started).toEqual([]);
  });
});
