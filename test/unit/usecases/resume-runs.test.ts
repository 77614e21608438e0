/**
 * The sweeper (shared/usecases/resume-runs.ts) on fakes: every marked, unfinished run whose
 * execution is not running is started again — under its own name when it never ran here, as the
 * recorded successor when it ended — while a creation younger than the grace period is left to its
 * creator, and marks without an unfinished deployment are removed; so are the cap slots of runs that
 * are over and of creations that never wrote their deployment.
 */
import { describe, expect, it } from 'vitest';
import { initialRunState, type Deployment } from '../../../shared/domain/deployment.js';
import { executionMoved, finished, prepared, released } from '../../../shared/domain/lifecycle.js';
import { writeWithEvent } from '../../../shared/usecases/record-change.js';
import { resumeRuns } from '../../../shared/usecases/resume-runs.js';
import { makeDeployment, T0 } from '../../support/deployments.js';
import { fakeDeps, type FakeDeps } from '../../support/fakes.js';

const GRACE_MS = 60_000;

async function marked(deps: FakeDeps, d: Deployment | undefined, id = d?.id ?? 'dep_gone'): Promise<void> {
  await deps.activeRuns.mark(id, T0.toISOString());
  if (d) await deps.deployments.createIfAbsent(d);
}

/** A deployment its run has prepared (version 2). */
function running(id: string): Deployment[] {
  const created = makeDeployment({ id });
  return [created, prepared(created, { baseline: 'v1.4.0', weights: {}, fencingToken: 1 }, T0)];
}

async function store(deps: FakeDeps, versions: Deployment[]): Promise<Deployment> {
  await deps.deployments.createIfAbsent(versions[0]!);
  for (const next of versions.slice(1)) await deps.deployments.update(next);
  return versions.at(-1)!;
}

describe('resumeRuns', () => {
  it('leaves a running execution alone', async () => {
    const deps = fakeDeps();
    const d = await store(deps, running('dep_running'));
    await deps.activeRuns.mark(d.id, T0.toISOString());
    deps.workflow.states.set(d.id, 'running');

    const report = await resumeRuns(deps, { graceMs: GRACE_MS });

    expect(report.runs).toEqual([{ deploymentId: d.id, action: 'running' }]);
    expect(deps.workflow.executions).toEqual([]);
  });

  it('starts a run whose execution was never started here (its process died) under its own name, writing nothing', async () => {
    const deps = fakeDeps();
    const d = await store(deps, running('dep_orphaned'));
    await deps.activeRuns.mark(d.id, T0.toISOString());
    const writes = deps.deployments.writeAttempts;

    const report = await resumeRuns(deps, { graceMs: GRACE_MS });

    expect(report.runs).toEqual([{ deploymentId: d.id, action: 'started', execution: d.id }]);
    expect(deps.workflow.executions).toEqual([d.id]);
    expect(deps.deployments.writeAttempts).toBe(writes);
    expect(report.summary).toMatchObject({ marked: 1, started: 1 });
  });

  it('restarts a run whose execution ended before it did, as the successor, recorded first (one write, one event)', async () => {
    const deps = fakeDeps();
    const d = await store(deps, running('dep_failed'));
    await deps.activeRuns.mark(d.id, T0.toISOString());
    deps.workflow.states.set(d.id, 'ended');

    const report = await resumeRuns(deps, { graceMs: GRACE_MS });
    const again = await resumeRuns(deps, { graceMs: GRACE_MS });

    expect(report.runs).toEqual([{ deploymentId: d.id, action: 'restarted', execution: 'dep_failed-2', previous: 'dep_failed' }]);
    expect((await deps.deployments.get(d.id))!.run.execution).toBe('dep_failed-2');
    expect(deps.audit.all().map((e) => [e.action, e.actor, e.reason])).toEqual([['deployment.resume', 'crossfade-sweeper', 'execution dep_failed ended before the deployment did']]);
    // The successor runs now: the next sweep leaves it alone.
    expect(again.runs).toEqual([{ deploymentId: d.id, action: 'running' }]);
    expect(deps.workflow.executions).toEqual(['dep_failed-2']);
  });

  it('a continuation’s successor that was recorded but never started is started under that name', async () => {
    const deps = fakeDeps();
    const [created, prep] = running('dep_continued');
    const d = await store(deps, [created!, prep!, executionMoved(prep!, 'dep_continued-3', T0)]);
    await deps.activeRuns.mark(d.id, T0.toISOString());

    const report = await resumeRuns(deps, { graceMs: GRACE_MS });

    expect(report.runs).toEqual([{ deploymentId: d.id, action: 'started', execution: 'dep_continued-3' }]);
  });

  describe('creations', () => {
    it('a creation younger than the grace period is left to its creator; older, its run is started', async () => {
      const deps = fakeDeps();
      const d = makeDeployment({ id: 'dep_young' });
      await marked(deps, d);

      expect((await resumeRuns(deps, { graceMs: GRACE_MS })).runs).toEqual([{ deploymentId: d.id, action: 'left-to-creator' }]);
      expect(deps.workflow.executions).toEqual([]);

      deps.clock.advance(GRACE_MS);
      expect((await resumeRuns(deps, { graceMs: GRACE_MS })).runs).toEqual([{ deploymentId: d.id, action: 'started', execution: d.id }]);
    });

    it('a mark whose deployment was never written is removed once the grace period is over', async () => {
      const deps = fakeDeps();
      await marked(deps, undefined, 'dep_never_written');

      expect((await resumeRuns(deps, { graceMs: GRACE_MS })).runs).toEqual([{ deploymentId: 'dep_never_written', action: 'left-to-creator' }]);
      deps.clock.advance(GRACE_MS);
      const report = await resumeRuns(deps, { graceMs: GRACE_MS });

      expect(report.runs).toEqual([{ deploymentId: 'dep_never_written', action: 'mark-removed', reason: expect.stringContaining('no such deployment') }]);
      expect(await deps.activeRuns.list()).toEqual([]);
    });
  });

  it('the mark of a run that is over is removed, and nothing is started', async () => {
    const deps = fakeDeps();
    const [created, prep] = running('dep_over');
    const ended = finished(prep!, {}, T0);
    await store(deps, [created!, prep!, ended, released(ended, T0)]);
    await deps.activeRuns.mark('dep_over', T0.toISOString());

    const report = await resumeRuns(deps, { graceMs: GRACE_MS });

    expect(report.runs).toEqual([{ deploymentId: 'dep_over', action: 'mark-removed', reason: 'its run is over' }]);
    expect(await deps.activeRuns.list()).toEqual([]);
    expect(deps.workflow.executions).toEqual([]);
  });

  it('frees the cap slots of a released run, and of a holder that is no deployment once the grace period is over', async () => {
    const deps = fakeDeps();
    const [created, prep] = running('dep_over');
    const ended = finished(prep!, {}, T0);
    await store(deps, [created!, prep!, ended, released(ended, T0)]);
    const live = await store(deps, running('dep_live'));
    deps.workflow.states.set(live.id, 'running');
    await deps.activeRuns.mark(live.id, T0.toISOString());
    for (const holder of ['dep_over', 'dep_live', 'dep_never_written']) await deps.slots.claim('cap#global', holder, 5, T0.toISOString());

    const early = await resumeRuns(deps, { graceMs: GRACE_MS });
    expect(early.slots).toEqual([{ scopeKey: 'cap#global', holder: 'dep_over', reason: 'its run is over' }]);
    expect((await deps.slots.holders('cap#global')).map((h) => h.holder)).toEqual(['dep_live', 'dep_never_written']);

    deps.clock.advance(GRACE_MS);
    const late = await resumeRuns(deps, { graceMs: GRACE_MS });
    expect(late.slots).toEqual([{ scopeKey: 'cap#global', holder: 'dep_never_written', reason: expect.stringContaining('no such deployment') }]);
    expect(late.summary.slotsFreed).toBe(1);
    // A live run keeps its slot: a cap is never exceeded because of the sweeper.
    expect((await deps.slots.holders('cap#global')).map((h) => h.holder)).toEqual(['dep_live']);
  });

  it('a release whose writer died before appending its event: the event is appended before the mark goes', async () => {
    const deps = fakeDeps();
    const [created, prep] = running('dep_released');
    const ended = await store(deps, [created!, prep!, finished(prep!, {}, T0)]);
    await deps.activeRuns.mark('dep_released', T0.toISOString());
    const died = new Error('killed after the write');
    const dying = { ...deps, crashPoints: { reached: (name: string) => { if (name.startsWith('write:release:after-write')) throw died; } } };
    await expect(writeWithEvent(dying, ended, released(ended, T0), { verb: 'release', actor: 'crossfade-canary', reason: null, details: {} })).rejects.toBe(died);
    expect(deps.audit.all()).toEqual([]);

    const report = await resumeRuns(deps, { graceMs: GRACE_MS });

    expect(report.runs).toEqual([{ deploymentId: 'dep_released', action: 'mark-removed', reason: 'its run is over' }]);
    expect(deps.audit.all().map((e) => [e.eventId, e.action])).toEqual([['v000004-release', 'deployment.release']]);
    expect(await deps.activeRuns.list()).toEqual([]);
  });

  it('one run’s failure is reported and the others are still resumed', async () => {
    const deps = fakeDeps();
    const a = await store(deps, running('dep_a'));
    const b = await store(deps, running('dep_b'));
    await deps.activeRuns.mark(a.id, T0.toISOString());
    await deps.activeRuns.mark(b.id, new Date(T0.getTime() + 1).toISOString());
    const executionState = deps.workflow.executionState.bind(deps.workflow);
    deps.workflow.executionState = async (name) => {
      if (name === a.id) throw new Error('Step Functions is down for this one');
      return executionState(name);
    };

    const report = await resumeRuns(deps, { graceMs: GRACE_MS });

    expect(report.runs).toEqual([
      { deploymentId: a.id, action: 'failed', reason: 'Error: Step Functions is down for this one' },
      { deploymentId: b.id, action: 'started', execution: b.id },
    ]);
    expect(report.summary.failed).toBe(1);
  });

  it('two sweepers racing on an ended execution start one successor', async () => {
    const deps = fakeDeps();
    const d = await store(deps, running('dep_race'));
    await deps.activeRuns.mark(d.id, T0.toISOString());
    deps.workflow.states.set(d.id, 'ended');

    await Promise.all([resumeRuns(deps, { graceMs: GRACE_MS }), resumeRuns(deps, { graceMs: GRACE_MS })]);

    expect(new Set(deps.workflow.executions)).toEqual(new Set(['dep_race-2']));
    expect(deps.audit.all().filter((e) => e.action === 'deployment.resume')).toHaveLength(1);
    expect({ ...initialRunState, ...(await deps.deployments.get(d.id))!.run }.execution).toBe('dep_race-2');
  });
});
