/**
 * Operators' and Spinnaker's requests to a running deployment (shared/usecases/control-deployment.ts)
 * on fakes: each is one conditional write and one audit event (or nothing, when it changes nothing),
 * checked against the caller's scopes before anything is written, re-decided on a fresh read when it
 * races the run's own writes, and a run waiting at a gate is woken with the gate's token.
 */
import { describe, expect, it } from 'vitest';
import { initialRunState, type Deployment, type Hold, type RetryNote, type RunState } from '../../../shared/domain/deployment.js';
import { ConflictError, ForbiddenError, NotFoundError, VersionConflictError } from '../../../shared/domain/errors.js';
import { decideNext, GATE_HOLD_SECONDS, holdClosed, phaseOfStep } from '../../../shared/domain/lifecycle.js';
import type { DeploymentQuery, DeploymentStore } from '../../../shared/ports/deployment-store.js';
import type { Page } from '../../../shared/ports/page.js';
import { controlDeployment, type ControlCommand, type ControlRequest } from '../../../shared/usecases/control-deployment.js';
import { makeDeployment, T0 } from '../../support/deployments.js';
import { rejectionOf } from '../../support/errors.js';
import { fakeDeps, type FakeDeps } from '../../support/fakes.js';

const TIMED_PAUSE = 1;

/** The default plan of makeDeployment (setWeight 10, pause 60 s, setWeight 100), prepared, at `stepIndex`, version 5. */
function at(stepIndex: number, run: Partial<RunState> = {}, change: Partial<Deployment> = {}): Deployment {
  const d = makeDeployment();
  return { ...d, phase: phaseOfStep(d, stepIndex), stepIndex, version: 5, run: { ...initialRunState, stepStartedAt: T0.toISOString(), ...run }, ...change };
}

/** The hold the run of a version-5 deployment opened at `stepIndex`. */
function holdOf(token: string, kind: Hold['kind'], stepIndex: number, seconds: number): Hold {
  return { token, kind, stepIndex, since: T0.toISOString(), seconds, version: 5 };
}

/** A manual gate at step 1, the run waiting on `token`. */
function atGate(token: string): Deployment {
  const d = at(1, { hold: holdOf(token, 'gate', 1, GATE_HOLD_SECONDS) });
  return { ...d, steps: [d.steps[0]!, { kind: 'pause', durationSeconds: null }, d.steps[2]!] };
}

async function seeded(deps: FakeDeps, d: Deployment): Promise<Deployment> {
  await deps.deployments.createIfAbsent(d);
  return d;
}

function command(d: Deployment, request: ControlRequest, change: Partial<ControlCommand> = {}): ControlCommand {
  return { deploymentId: d.id, request, actor: 'alice', reason: 'bad latency on the canary', authorize: () => undefined, ...change };
}

/** Writes after seeding: create is one. */
const writesSinceSeed = (deps: FakeDeps) => deps.deployments.writeAttempts - 1 + deps.audit.writeAttempts;

describe('controlDeployment', () => {
  describe('cancel', () => {
    it('decides a rollback ending CANCELED: one write, one version, one audit event naming who and why', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(TIMED_PAUSE, { waitedSeconds: 20 }));

      const result = await controlDeployment(deps, command(d, { kind: 'cancel' }));

      expect(result).toMatchObject({ version: 6, phase: 'ROLLING_BACK', run: { outcome: { kind: 'rollback', reason: 'canceled by alice: bad latency on the canary', finalPhase: 'CANCELED', requestedBy: 'alice' } } });
      expect(await deps.deployments.get(d.id)).toEqual(result);
      expect(deps.audit.all()).toEqual([
        {
          subject: `deployment/${d.id}`,
          eventId: 'v000006-cancel',
          at: T0.toISOString(),
          actor: 'alice',
          action: 'deployment.cancel',
          reason: 'bad latency on the canary',
          details: { phase: 'ROLLING_BACK', stepIndex: TIMED_PAUSE },
        },
      ]);
    });

    it('twice: the second changes nothing (same version, still one audit event, no write)', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(TIMED_PAUSE));

      const first = await controlDeployment(deps, command(d, { kind: 'cancel' }));
      const second = await controlDeployment(deps, command(d, { kind: 'cancel' }, { actor: 'spinnaker', reason: 'stage failed' }));

      expect(second).toEqual(first);
      expect(second.version).toBe(6);
      expect(deps.audit.all()).toHaveLength(1);
      expect(deps.deployments.writeAttempts).toBe(2); // the seed and the first cancel
    });

    it('of a finished deployment: answers it as it is, writes nothing', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(3, { outcome: { kind: 'promote', reason: 'every step passed' }, released: true }, { phase: 'SUCCEEDED' }));

      const result = await controlDeployment(deps, command(d, { kind: 'cancel' }));

      expect(result).toEqual(d);
      expect(writesSinceSeed(deps)).toBe(0);
    });

    it('at a gate wakes the run with the gate’s token', async () => {
      const deps = fakeDeps();
      deps.workflow.waiting.add('token-gate-1');
      const d = await seeded(deps, atGate('token-gate-1'));

      const result = await controlDeployment(deps, command(d, { kind: 'cancel' }));

      expect(deps.workflow.woken).toEqual(['token-gate-1']);
      expect(deps.workflow.waiting.size).toBe(0);
      expect(decideNext(result).kind).toBe('unhold');
      expect(deps.logger.lines).toContainEqual(expect.objectContaining({ message: 'hold woken', fields: expect.objectContaining({ request: 'cancel', hold: 'gate', woken: 'woken' }) }));
    });

    it('during a timed pause (a 24 h hold) wakes the run at once', async () => {
      const deps = fakeDeps();
      deps.workflow.waiting.add('token-pause-1');
      const d = await seeded(deps, at(TIMED_PAUSE, { hold: holdOf('token-pause-1', 'wait', TIMED_PAUSE, 86_400) }));

      await controlDeployment(deps, command(d, { kind: 'cancel' }));

      expect(deps.workflow.woken).toEqual(['token-pause-1']);
    });

    it('outside a hold wakes nothing', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(0));
      await controlDeployment(deps, command(d, { kind: 'cancel' }));
      expect(deps.workflow.woken).toEqual([]);
    });
  });

  describe('promote', () => {
    it('without full, at a timed pause: completes the step in one write (one version)', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(TIMED_PAUSE, { waitedSeconds: 20 }));

      const result = await controlDeployment(deps, command(d, { kind: 'promote', full: false }));

      expect(result).toMatchObject({ version: 6, stepIndex: 2, phase: 'SHIFTING', run: { waitedSeconds: 0, outcome: null } });
      expect(decideNext(result)).toEqual({ kind: 'shift', atVersion: 6, stepIndex: 2 });
      expect(deps.audit.all()).toMatchObject([{ eventId: 'v000006-promote', action: 'deployment.promote', details: { phase: 'SHIFTING', stepIndex: 2, full: false } }]);
    });

    it('without full, at a manual gate: passes it and wakes the run', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, atGate('token-gate-2'));

      const result = await controlDeployment(deps, command(d, { kind: 'promote', full: false }));

      expect(result.stepIndex).toBe(2);
      expect(deps.workflow.woken).toEqual(['token-gate-2']);
    });

    it('without full, outside a pause: ConflictError, nothing written', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(0));

      expect(await rejectionOf(controlDeployment(deps, command(d, { kind: 'promote', full: false })))).toBeInstanceOf(ConflictError);
      expect(writesSinceSeed(deps)).toBe(0);
    });

    it('full: decides the promotion', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(0, { shifted: true }));

      const result = await controlDeployment(deps, command(d, { kind: 'promote', full: true }));

      expect(decideNext(result)).toEqual({ kind: 'promote', atVersion: 6 });
      expect(deps.audit.all()).toMatchObject([{ details: { full: true } }]);
    });
  });

  describe('pause and resume', () => {
    it('pause holds the run at a gate; resume lifts it at the same step, each one write', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(TIMED_PAUSE, { waitedSeconds: 30 }));

      const paused = await controlDeployment(deps, command(d, { kind: 'pause' }));
      expect(paused).toMatchObject({ version: 6, stepIndex: TIMED_PAUSE, run: { paused: true } });
      expect(decideNext(paused)).toEqual({ kind: 'gate', atVersion: 6, stepIndex: TIMED_PAUSE, seconds: GATE_HOLD_SECONDS });

      const resumed = await controlDeployment(deps, command(d, { kind: 'resume' }));
      expect(resumed).toMatchObject({ version: 7, stepIndex: TIMED_PAUSE, run: { paused: false, waitedSeconds: 30 } });
      expect(decideNext(resumed)).toEqual({ kind: 'wait', atVersion: 7, stepIndex: TIMED_PAUSE, seconds: 30 });
      expect(deps.audit.all().map((e) => e.eventId)).toEqual(['v000006-pause', 'v000007-resume']);
    });

    it('a second pause changes nothing; resume wakes the gate the paused run waits at', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(0));
      await controlDeployment(deps, command(d, { kind: 'pause' }));
      await controlDeployment(deps, command(d, { kind: 'pause' }));
      expect(deps.audit.all()).toHaveLength(1);
      // The run reached the Hold and stored its token.
      const paused = (await deps.deployments.get(d.id))!;
      const gateHold: Hold = { token: 'token-pause', kind: 'gate', stepIndex: 0, since: T0.toISOString(), seconds: GATE_HOLD_SECONDS, version: paused.version + 1 };
      await deps.deployments.update({ ...paused, version: paused.version + 1, run: { ...paused.run, hold: gateHold } });

      await controlDeployment(deps, command(d, { kind: 'resume' }));

      expect(deps.workflow.woken).toEqual(['token-pause']);
      // The run closes the hold first, then shifts.
      const resumed = (await deps.deployments.get(d.id))!;
      expect(decideNext(resumed)).toMatchObject({ kind: 'unhold' });
      expect(decideNext({ ...resumed, run: { ...resumed.run, hold: null } })).toMatchObject({ kind: 'shift' });
    });

    it('pausing at a manual gate leaves the run waiting there (nothing woken)', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, atGate('token-gate-3'));
      await controlDeployment(deps, command(d, { kind: 'pause' }));
      expect(deps.workflow.woken).toEqual([]);
    });

    it('once a rollback is under way, pause is refused with ConflictError', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(TIMED_PAUSE));
      await controlDeployment(deps, command(d, { kind: 'cancel' }));
      expect(await rejectionOf(controlDeployment(deps, command(d, { kind: 'pause' })))).toBeInstanceOf(ConflictError);
      expect(deps.audit.all()).toHaveLength(1);
    });
  });

  describe('authorization', () => {
    it('is asked with the deployment’s service before anything is written', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(TIMED_PAUSE));
      const asked: { service: string; writes: number }[] = [];

      await controlDeployment(deps, command(d, { kind: 'cancel' }, { authorize: (service) => void asked.push({ service, writes: writesSinceSeed(deps) }) }));

      expect(asked).toEqual([{ service: 'checkout', writes: 0 }]);
      expect(writesSinceSeed(deps)).toBe(2);
    });

    it('refusing: the error propagates and nothing is written or woken', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, atGate('token-gate-4'));
      const refuse = (service: string) => {
        throw new ForbiddenError(`token reader may not deploy ${service}`, 'scope');
      };

      for (const request of [{ kind: 'cancel' }, { kind: 'rollback' }, { kind: 'promote', full: true }, { kind: 'pause' }, { kind: 'resume' }] as const) {
        expect(await rejectionOf(controlDeployment(deps, command(d, request, { authorize: refuse })))).toBeInstanceOf(ForbiddenError);
      }
      expect(writesSinceSeed(deps)).toBe(0);
      expect(deps.workflow.woken).toEqual([]);
      expect(await deps.deployments.get(d.id)).toEqual(d);
    });
  });

  it('an unknown deployment: NotFoundError', async () => {
    const deps = fakeDeps();
    expect(await rejectionOf(controlDeployment(deps, command(at(0), { kind: 'cancel' })))).toBeInstanceOf(NotFoundError);
  });

  describe('racing the run’s own writes', () => {
    /** The store, where a task of the run writes just before each of the first `races` updates. */
    class RacingStore implements DeploymentStore {
      reads = 0;
      constructor(
        private readonly inner: FakeDeps['deployments'],
        private races: number,
      ) {}
      createIfAbsent(deployment: Deployment) {
        return this.inner.createIfAbsent(deployment);
      }
      async get(id: string) {
        this.reads++;
        return this.inner.get(id);
      }
      async update(next: Deployment) {
        if (this.races > 0) {
          this.races--;
          const current = (await this.inner.get(next.id))!;
          // The run closes a 10 s hold it had opened in the current step.
          const taskWrite = holdClosed({ ...current, run: { ...current.run, hold: { token: 't', kind: 'wait', stepIndex: current.stepIndex, since: T0.toISOString(), seconds: 10, version: current.version } } }, 10, T0);
          await this.inner.update({ ...taskWrite, version: current.version + 1 });
        }
        return this.inner.update(next);
      }
      list(query: DeploymentQuery): Promise<Page<Deployment>> {
        return this.inner.list(query);
      }
      noteRetry(id: string, note: RetryNote) {
        return this.inner.noteRetry(id, note);
      }
      deleteUnstarted(id: string) {
        return this.inner.deleteUnstarted(id);
      }
    }

    it('a VersionConflict from a concurrent task write is retried on a fresh read: both writes kept', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(TIMED_PAUSE, { waitedSeconds: 20 }));
      const store = new RacingStore(deps.deployments, 1);

      const result = await controlDeployment({ ...deps, deployments: store }, command(d, { kind: 'cancel' }));

      expect(store.reads).toBe(2);
      // The task's write (version 6: 30 s waited) and the cancel on top of it (version 7).
      expect(result).toMatchObject({ version: 7, phase: 'ROLLING_BACK', run: { waitedSeconds: 30, outcome: { kind: 'rollback', finalPhase: 'CANCELED' } } });
      expect(await deps.deployments.get(d.id)).toEqual(result);
      expect(deps.audit.all().map((e) => e.eventId)).toEqual(['v000007-cancel']);
    });

    it('a request that no longer applies on the fresh read is refused, not forced', async () => {
      const deps = fakeDeps();
      // 50 of 60 s waited: the racing task's 10 s complete the pause, so promote is no longer at a pause.
      const d = await seeded(deps, at(TIMED_PAUSE, { waitedSeconds: 50 }));
      const store = new RacingStore(deps.deployments, 1);

      expect(await rejectionOf(controlDeployment({ ...deps, deployments: store }, command(d, { kind: 'promote', full: false })))).toBeInstanceOf(ConflictError);
      expect((await deps.deployments.get(d.id))!.stepIndex).toBe(2);
      expect(deps.audit.all()).toEqual([]);
    });

    it('gives up after five lost races with the VersionConflictError', async () => {
      const deps = fakeDeps();
      const d = await seeded(deps, at(TIMED_PAUSE));
      const store = new RacingStore(deps.deployments, 5);

      expect(await rejectionOf(controlDeployment({ ...deps, deployments: store }, command(d, { kind: 'pause' })))).toBeInstanceOf(VersionConflictError);
      expect(store.reads).toBe(5);
      expect(deps.audit.all()).toEqual([]);
    });
  });
});
