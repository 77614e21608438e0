/**
 * One task of the canary state machine (shared/usecases/canary/run-task.ts) on fakes: the guard
 * (a task acts only while its instruction is current, so a duplicate or a retry whose write landed
 * does nothing, and a retry after a crash does the same idempotent work again), one write per
 * task, the traffic tasks against a recording TrafficRouter, the end of a run (rollback, promote,
 * release, the lock held by another), and the judge on an in-memory metrics provider with each
 * no-data policy.
 */
import { describe, expect, it } from 'vitest';
import type { AnalysisMetric, AnalysisTemplate, NoDataPolicy } from '../../../../shared/domain/analysis.js';
import type { Deployment, RetryNote, Step } from '../../../../shared/domain/deployment.js';
import { DependencyUnavailableError, InternalError, NotConvergedError, ValidationError } from '../../../../shared/domain/errors.js';
import { cancelRequested, decideNext, GATE_HOLD_SECONDS, promoteRequested, type Instruction, type InstructionKind } from '../../../../shared/domain/lifecycle.js';
import type { ProxyGroup, Split } from '../../../../shared/domain/mesh.js';
import type { AuditEvent } from '../../../../shared/ports/audit-log.js';
import type { DeploymentQuery, DeploymentStore } from '../../../../shared/ports/deployment-store.js';
import type { MetricQuery, MetricsProvider, MetricWindow } from '../../../../shared/ports/metrics-provider.js';
import type { Page } from '../../../../shared/ports/page.js';
import type { TrafficRouter, Verification, VersionEndpoints } from '../../../../shared/ports/traffic-router.js';
import type { CanaryDeps } from '../../../../shared/usecases/canary/deps.js';
import { runCanaryTask, type TaskAction, type TaskInput, type TaskOutput } from '../../../../shared/usecases/canary/run-task.js';
import { makeDeployment, T0 } from '../../../support/deployments.js';
import { rejectionOf } from '../../../support/errors.js';
import { fakeHttpDeps, type FakeHttpDeps } from '../../../support/fakes.js';
import { TEST_PROXY_GROUPS } from '../../../support/mesh-fakes.js';

// ---- fakes of this suite ----

const HAPROXY_GROUP = TEST_PROXY_GROUPS.find((g) => g.kind === 'haproxy')!;

interface AppliedSplit {
  group: string;
  service: string;
  versions: string[];
  split: Split;
}

/** Records every applySplit; verifySplit answers whatever `answer` says for the split asked. */
class RecordingRouter implements TrafficRouter {
  readonly applied: AppliedSplit[] = [];
  readonly verified: Split[] = [];
  answer: (split: Split) => Verification = () => ({ state: 'converged' });

  async applySplit(group: ProxyGroup, service: string, backend: readonly VersionEndpoints[], split: Split): Promise<void> {
    this.applied.push({ group: group.name, service, versions: backend.map((b) => b.version), split: { ...split } });
  }

  async verifySplit(_group: ProxyGroup, _service: string, _backend: readonly VersionEndpoints[], split: Split): Promise<Verification> {
    this.verified.push({ ...split });
    return this.answer(split);
  }

  /** The canary's share in each split applied, in order. */
  canaryPercents(canary = 'v1.5.0'): number[] {
    return this.applied.map((a) => a.split[canary] ?? 0);
  }
}

/** The deployment store, whose next `update` throws once `crashNextUpdate()` is called: a task that dies before its write. */
class CrashingDeploymentStore implements DeploymentStore {
  private crashes = 0;
  constructor(private readonly inner: DeploymentStore) {}

  crashNextUpdate(): void {
    this.crashes++;
  }
  createIfAbsent(deployment: Deployment): Promise<'created' | 'exists'> {
    return this.inner.createIfAbsent(deployment);
  }
  get(id: string): Promise<Deployment | undefined> {
    return this.inner.get(id);
  }
  async update(next: Deployment): Promise<void> {
    if (this.crashes > 0) {
      this.crashes--;
      throw new Error('Task timed out after 120.00 seconds');
    }
    return this.inner.update(next);
  }
  list(query: DeploymentQuery): Promise<Page<Deployment>> {
    return this.inner.list(query);
  }
  noteRetry(id: string, note: RetryNote): Promise<void> {
    return this.inner.noteRetry(id, note);
  }
  deleteUnstarted(id: string): Promise<'deleted' | 'started' | 'absent'> {
    return this.inner.deleteUnstarted(id);
  }
}

/** A metrics provider answering from a map of expression → series, or throwing `failure` for every query. */
class MapMetrics implements MetricsProvider {
  readonly asked: { query: MetricQuery; window: MetricWindow }[] = [];
  failure: Error | undefined;
  constructor(
    readonly name: string,
    readonly series = new Map<string, number[]>(),
  ) {}

  async queryRange(query: MetricQuery, window: MetricWindow): Promise<number[]> {
    this.asked.push({ query, window });
    if (this.failure) throw this.failure;
    return [...(this.series.get(query.expression) ?? [])];
  }
}

// ---- driving tasks ----

const ACTION_OF: Record<Exclude<InstructionKind, 'done'>, TaskAction> = {
  prepare: 'prepare',
  shift: 'shift',
  converge: 'converge',
  wait: 'hold',
  gate: 'hold',
  unhold: 'unhold',
  judge: 'judge',
  promote: 'promote',
  rollback: 'rollback',
  release: 'release',
};

function inputFor(deploymentId: string, next: Instruction, extra: Partial<TaskInput> = {}): TaskInput {
  if (next.kind === 'done') throw new Error('a done run has no task');
  return { action: ACTION_OF[next.kind], deploymentId, expect: next, ...(next.kind === 'gate' || next.kind === 'wait' ? { token: `token-v${next.atVersion}` } : {}), ...extra };
}

interface Harness {
  deps: FakeHttpDeps;
  router: RecordingRouter;
  /** deps as the tasks get them (the store may be wrapped). */
  canary: CanaryDeps;
}

function harness(overrides: Partial<FakeHttpDeps> = {}, wrap: (deps: FakeHttpDeps) => Partial<CanaryDeps> = () => ({})): Harness {
  const router = new RecordingRouter();
  const deps = fakeHttpDeps({ proxyGroups: [HAPROXY_GROUP], routers: { haproxy: router }, ...overrides });
  return { deps, router, canary: { ...deps, ...wrap(deps) } };
}

/** Stores `d` and gives its service's lock to it, as createDeployment does. */
async function created(h: Harness, d: Deployment): Promise<Deployment> {
  await h.deps.deployments.createIfAbsent(d);
  await h.deps.locks.acquire({ service: d.service, owner: d.id, now: h.deps.clock.now(), leaseMs: h.deps.settings.lockLeaseMs });
  return d;
}

/**
 * Runs the tasks decideNext asks for, as the state machine would, until `stop` says so. A timed
 * hold lasts its seconds (the clock moves on), then the run closes it as the Hold state's timeout
 * does; a gate is never passed here (tests stop at it, or pass it with a request).
 */
async function drive(h: Harness, deploymentId: string, stop: (next: Instruction) => boolean, limit = 100): Promise<TaskOutput> {
  let out = await runCanaryTask(h.canary, { action: 'decide', deploymentId });
  for (let i = 0; !stop(out.next); i++) {
    if (i >= limit || out.next.kind === 'done') throw new Error(`the run did not reach the expected instruction; it is at ${JSON.stringify(out.next)}`);
    const next = out.next;
    out = await runCanaryTask(h.canary, inputFor(deploymentId, next));
    if (next.kind === 'wait' && out.next.kind === 'unhold' && !stop(out.next)) {
      h.deps.clock.advance(next.seconds * 1000);
      out = await runCanaryTask(h.canary, { action: 'unhold', deploymentId, timedOut: true });
    }
  }
  return out;
}

async function stored(h: Harness, id: string): Promise<Deployment> {
  const d = await h.deps.deployments.get(id);
  if (!d) throw new Error(`deployment ${id} is not stored`);
  return d;
}

function events(h: Harness, action?: string): AuditEvent[] {
  return h.deps.audit
    .all()
    .filter((e) => action === undefined || e.action === action)
    .sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
}

const TWO_SHIFTS: Step[] = [
  { kind: 'setWeight', canaryPercent: 10, wave: null },
  { kind: 'pause', durationSeconds: null },
  { kind: 'setWeight', canaryPercent: 100, wave: null },
];

// ---- the guard ----

describe('runCanaryTask: the guard', () => {
  it('decide writes nothing and answers decideNext', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const writes = h.deps.deployments.writeAttempts;

    const out = await runCanaryTask(h.canary, { action: 'decide', deploymentId: d.id });

    expect(out).toEqual({ deploymentId: d.id, next: { kind: 'prepare', atVersion: 1 }, loop: 1 });
    expect(h.deps.deployments.writeAttempts).toBe(writes);
  });

  it('a duplicated task (the same input twice) acts once: one split applied, one write, one audit event', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atShift = await drive(h, d.id, (next) => next.kind === 'shift');
    const input = inputFor(d.id, atShift.next);
    const applied = h.router.applied.length;

    const first = await runCanaryTask(h.canary, input);
    const second = await runCanaryTask(h.canary, input);

    expect(second).toEqual(first);
    expect(first.next).toEqual({ kind: 'converge', atVersion: atShift.next.atVersion + 1, stepIndex: 0 });
    expect(h.router.applied.slice(applied)).toEqual([{ group: 'haproxy-gcp-usc1', service: 'checkout', versions: ['v41', 'v42', 'v1.4.0', 'v1.5.0'], split: { 'v1.4.0': 90, 'v1.5.0': 10 } }]);
    expect((await stored(h, d.id)).version).toBe(atShift.next.atVersion + 1);
    expect(events(h, 'deployment.shift')).toHaveLength(1);
    expect(h.deps.logger.lines.some((l) => l.message === 'canary task skipped: instruction no longer current' && l.fields['action'] === 'shift')).toBe(true);
  });

  it('a task that crashed after applying weights but before saving is retried: the same split again, then one write; the step advances exactly once', async () => {
    let store: CrashingDeploymentStore | undefined;
    const h = harness({}, (deps) => ({ deployments: (store = new CrashingDeploymentStore(deps.deployments)) }));
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atShift = await drive(h, d.id, (next) => next.kind === 'shift');
    const input = inputFor(d.id, atShift.next);
    const applied = h.router.applied.length;

    store!.crashNextUpdate();
    await expect(runCanaryTask(h.canary, input)).rejects.toThrow('Task timed out');
    const afterCrash = await stored(h, d.id);
    expect(afterCrash.version).toBe(atShift.next.atVersion);
    expect(afterCrash.run.shifted).toBe(false);
    const splitAfterCrash = (await h.deps.registry.getService('checkout'))!.splits;

    const retried = await runCanaryTask(h.canary, input);

    const [crashed, again] = h.router.applied.slice(applied);
    expect(h.router.applied.slice(applied)).toHaveLength(2);
    expect(again).toEqual(crashed);
    expect(again!.split).toEqual({ 'v1.4.0': 90, 'v1.5.0': 10 });
    // The registry already held the split: the retry did not write it again.
    expect((await h.deps.registry.getService('checkout'))!.splits).toEqual(splitAfterCrash);
    expect(retried.next).toEqual({ kind: 'converge', atVersion: atShift.next.atVersion + 1, stepIndex: 0 });
    expect(events(h, 'deployment.shift')).toHaveLength(1);

    const converged = await runCanaryTask(h.canary, inputFor(d.id, retried.next));
    // Replays of both tasks change nothing more.
    await runCanaryTask(h.canary, input);
    await runCanaryTask(h.canary, inputFor(d.id, retried.next));
    const after = await stored(h, d.id);
    expect(after.stepIndex).toBe(1);
    expect(after.version).toBe(atShift.next.atVersion + 2);
    expect(converged.next).toEqual({ kind: 'gate', atVersion: after.version, stepIndex: 1, seconds: GATE_HOLD_SECONDS });
    expect(h.router.applied).toHaveLength(applied + 2);
  });

  it('a pause is one hold: its start and its end are the two writes (and events), the step completing in the second', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: [{ kind: 'setWeight', canaryPercent: 10, wave: null }, { kind: 'pause', durationSeconds: 86_400 }] }));
    const atWait = await drive(h, d.id, (next) => next.kind === 'wait');
    expect(atWait.next).toMatchObject({ seconds: 86_400 });

    const opened = await runCanaryTask(h.canary, inputFor(d.id, atWait.next));
    expect(opened.next).toEqual({ kind: 'unhold', atVersion: atWait.next.atVersion + 1 });
    expect((await stored(h, d.id)).run.hold).toMatchObject({ kind: 'wait', seconds: 86_400, token: `token-v${atWait.next.atVersion}`, since: h.deps.clock.now().toISOString() });
    // The lock is held for as long as the hold may last, and then some.
    expect(Date.parse((await h.deps.locks.get('checkout'))!.leaseExpiresAt)).toBe(h.deps.clock.now().getTime() + 86_400_000 + h.deps.settings.lockLeaseMs);
    h.deps.clock.advance(86_400_000);
    const out = await runCanaryTask(h.canary, { action: 'unhold', deploymentId: d.id, timedOut: true });

    const after = await stored(h, d.id);
    expect(after.version).toBe(atWait.next.atVersion + 2);
    expect(after.stepIndex).toBe(2);
    expect(after.run.hold).toBeNull();
    expect(out.next).toEqual({ kind: 'promote', atVersion: after.version });
    expect(events(h, 'deployment.hold')).toHaveLength(1);
    expect(events(h, 'deployment.hold')[0]!.details).toMatchObject({ hold: { kind: 'wait', seconds: 86_400 } });
    expect(events(h, 'deployment.unhold').map((e) => e.eventId)).toEqual([`v${String(after.version).padStart(6, '0')}-unhold`]);
    expect(events(h, 'deployment.unhold')[0]!.details).toMatchObject({ timedOut: true });
  });

  it('a hold closed early (woken by a request) counts the time it lasted; a retried close changes nothing', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: [{ kind: 'setWeight', canaryPercent: 10, wave: null }, { kind: 'pause', durationSeconds: 600 }] }));
    const atWait = await drive(h, d.id, (next) => next.kind === 'wait');
    await runCanaryTask(h.canary, inputFor(d.id, atWait.next));
    h.deps.clock.advance(90_500);

    const out = await runCanaryTask(h.canary, { action: 'unhold', deploymentId: d.id });
    const again = await runCanaryTask(h.canary, { action: 'unhold', deploymentId: d.id });

    expect((await stored(h, d.id)).run).toMatchObject({ waitedSeconds: 90, hold: null });
    expect(out.next).toEqual({ kind: 'wait', atVersion: atWait.next.atVersion + 2, stepIndex: 1, seconds: 510 });
    expect(again.next).toEqual(out.next);
    expect(events(h, 'deployment.unhold')).toHaveLength(1);
  });

  it('a task whose write landed but whose audit event was lost: the retry appends the event', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atShift = await drive(h, d.id, (next) => next.kind === 'shift');
    const append = h.deps.audit.append.bind(h.deps.audit);
    let dropped = false;
    h.deps.audit.append = async (event) => {
      if (!dropped && event.action === 'deployment.shift') {
        dropped = true;
        throw new Error('the task died between its write and its event');
      }
      return append(event);
    };
    await expect(runCanaryTask(h.canary, { action: 'shift', deploymentId: d.id, expect: atShift.next })).rejects.toThrow('died');
    expect(events(h, 'deployment.shift')).toHaveLength(0);

    await runCanaryTask(h.canary, { action: 'shift', deploymentId: d.id, expect: atShift.next });

    expect(events(h, 'deployment.shift').map((e) => e.eventId)).toEqual([`v${String(atShift.next.atVersion + 1).padStart(6, '0')}-shift`]);
  });

  it('a stale instruction (an older atVersion) does nothing and answers the current decision', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atShift = await drive(h, d.id, (next) => next.kind === 'shift');
    const writes = h.deps.deployments.writeAttempts + h.deps.registry.writeAttempts;
    const applied = h.router.applied.length;
    const eventsBefore = h.deps.audit.all().length;

    const out = await runCanaryTask(h.canary, { action: 'shift', deploymentId: d.id, expect: { kind: 'shift', atVersion: atShift.next.atVersion - 1, stepIndex: 0 } });

    expect(out).toEqual(atShift);
    expect(h.router.applied).toHaveLength(applied);
    expect(h.deps.deployments.writeAttempts + h.deps.registry.writeAttempts).toBe(writes);
    // The last event is appended again in case its writer died before it (a no-op here: it is there).
    expect(h.deps.audit.all()).toHaveLength(eventsBefore);
  });

  it('a task given another kind of instruction than its own is a routing bug: InternalError, nothing done', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const error = await rejectionOf(runCanaryTask(h.canary, { action: 'shift', deploymentId: d.id, expect: { kind: 'prepare', atVersion: 1 } }));
    expect(error).toBeInstanceOf(InternalError);
    expect(h.router.applied).toEqual([]);
  });

  it('a hold reached when no longer current wakes its own token, so the run does not wait on it', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atGate = await drive(h, d.id, (next) => next.kind === 'gate');
    // An operator passed the gate between the Route and the Hold task.
    const passed = promoteRequested(await stored(h, d.id), false, 'alice', null, h.deps.clock.now()).deployment;
    await h.deps.deployments.update({ ...passed, version: atGate.next.atVersion + 1 });

    const out = await runCanaryTask(h.canary, { action: 'hold', deploymentId: d.id, expect: atGate.next, token: 'token-late' });

    expect(h.deps.workflow.woken).toEqual(['token-late']);
    expect(out.next).toEqual({ kind: 'shift', atVersion: atGate.next.atVersion + 1, stepIndex: 2 });
    expect((await stored(h, d.id)).run.hold).toBeNull();
  });

  it('a current gate stores its token as a gate hold and wakes nothing', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atGate = await drive(h, d.id, (next) => next.kind === 'gate');

    const out = await runCanaryTask(h.canary, { action: 'hold', deploymentId: d.id, expect: atGate.next, token: 'token-1' });

    expect(h.deps.workflow.woken).toEqual([]);
    expect((await stored(h, d.id)).run.hold).toMatchObject({ token: 'token-1', kind: 'gate', stepIndex: 1, seconds: GATE_HOLD_SECONDS });
    expect(out.next).toEqual({ kind: 'unhold', atVersion: atGate.next.atVersion + 1 });
  });

  it('a hold without a task token is a wiring bug: InternalError', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atGate = await drive(h, d.id, (next) => next.kind === 'gate');
    expect(await rejectionOf(runCanaryTask(h.canary, { action: 'hold', deploymentId: d.id, expect: atGate.next }))).toBeInstanceOf(InternalError);
  });
});

// ---- traffic ----

describe('runCanaryTask: traffic', () => {
  it('prepare resolves the baseline to the version serving most traffic and puts the canary at 0%', async () => {
    const h = harness();
    await h.deps.registry.putSplit({ service: 'checkout', proxyGroup: HAPROXY_GROUP.name, weights: { v41: 100 }, revision: 1, updatedAt: T0.toISOString() });
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS, baseline: null, canary: { version: 'v42' } }));

    const out = await drive(h, d.id, (next) => next.kind === 'shift');

    const after = await stored(h, d.id);
    expect(after.baseline).toEqual({ version: 'v41' });
    expect(after.phase).toBe('SHIFTING');
    expect(h.router.applied.map((a) => a.split)).toEqual([{ v41: 100, v42: 0 }]);
    expect(out.next).toEqual({ kind: 'shift', atVersion: 2, stepIndex: 0 });
  });

  it('converge throws NotConvergedError naming the lagging proxies while the router says pending, programs them again, and only notes the retry', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atConverge = await drive(h, d.id, (next) => next.kind === 'converge');
    h.router.answer = () => ({ state: 'pending', lagging: [{ proxy: 'edge-1', reason: 'server checkout_v1.5.0 has weight 0, expected 10' }] });
    const writes = h.deps.deployments.writeAttempts;

    const error = await rejectionOf(runCanaryTask(h.canary, inputFor(d.id, atConverge.next)));

    expect(error).toBeInstanceOf(NotConvergedError);
    expect((error as NotConvergedError).lagging).toEqual(['haproxy-gcp-usc1/edge-1']);
    expect((error as NotConvergedError).message).toContain('step 1/3');
    expect((error as NotConvergedError).message).toContain('haproxy-gcp-usc1/edge-1: server checkout_v1.5.0 has weight 0, expected 10');
    expect(h.router.verified.at(-1)).toEqual({ 'v1.4.0': 90, 'v1.5.0': 10 });
    // The lagging group is given the registry's split again before the retry asks once more.
    expect(h.router.applied.at(-1)).toMatchObject({ group: 'haproxy-gcp-usc1', split: { 'v1.4.0': 90, 'v1.5.0': 10 } });
    // No new version (the retry must stay current); progress says what is retried.
    const noted = await stored(h, d.id);
    expect(noted.version).toBe(atConverge.next.atVersion);
    expect(noted.retrying).toMatchObject({ action: 'converge', atVersion: atConverge.next.atVersion, attempt: 2, reason: expect.stringContaining('haproxy-gcp-usc1/edge-1') });
    expect(h.deps.deployments.writeAttempts).toBe(writes + 1);

    h.router.answer = () => ({ state: 'unknown', reason: 'edge-1: connection refused' });
    const unknown = await rejectionOf(runCanaryTask(h.canary, inputFor(d.id, atConverge.next)));
    expect((unknown as NotConvergedError).lagging).toEqual(['haproxy-gcp-usc1']);

    h.router.answer = () => ({ state: 'converged' });
    const out = await runCanaryTask(h.canary, inputFor(d.id, atConverge.next));
    expect(out.next).toMatchObject({ kind: 'gate', stepIndex: 1 });
  });

  it('recover turns the caught error into a rollback naming it, recorded with the error', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atConverge = await drive(h, d.id, (next) => next.kind === 'converge');
    const error = { Error: 'NotConvergedError', Cause: JSON.stringify({ errorType: 'NotConvergedError', errorMessage: 'step 1/3 is not served yet by haproxy-gcp-usc1/edge-1: weight 0' }) };

    const out = await runCanaryTask(h.canary, { action: 'recover', deploymentId: d.id, expect: atConverge.next, error });

    const reason = 'NotConvergedError: step 1/3 is not served yet by haproxy-gcp-usc1/edge-1: weight 0; rolled back';
    expect(out.next).toEqual({ kind: 'rollback', atVersion: atConverge.next.atVersion + 1, reason });
    const after = await stored(h, d.id);
    expect(after.phase).toBe('ROLLING_BACK');
    expect(after.run.outcome).toEqual({ kind: 'rollback', reason, finalPhase: 'ROLLED_BACK' });
    const [recorded] = events(h, 'deployment.recover');
    expect(recorded).toMatchObject({ reason, actor: 'crossfade-canary', details: { error } });
  });

  it('recover with a cause that is not JSON names it as given; a rollback already decided is kept', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    const atShift = await drive(h, d.id, (next) => next.kind === 'shift');

    const out = await runCanaryTask(h.canary, { action: 'recover', deploymentId: d.id, expect: atShift.next, error: { Error: 'States.Timeout', Cause: 'task timed out' } });
    expect(out.next).toMatchObject({ kind: 'rollback', reason: 'States.Timeout: task timed out; rolled back' });

    const writes = h.deps.deployments.writeAttempts;
    const again = await runCanaryTask(h.canary, { action: 'recover', deploymentId: d.id, expect: out.next, error: { Error: 'InternalError' } });
    expect(again).toEqual(out);
    expect(h.deps.deployments.writeAttempts).toBe(writes);
  });

  it('rollback puts the baseline back at 100%, verified, and finishes with the final phase the outcome names', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
    await drive(h, d.id, (next) => next.kind === 'gate');
    await h.deps.deployments.update(cancelRequested(await stored(h, d.id), 'alice', null, h.deps.clock.now()).deployment);

    const out = await drive(h, d.id, (next) => next.kind === 'release');

    const after = await stored(h, d.id);
    expect(after.phase).toBe('CANCELED');
    expect(after.result).toMatchObject({ outcome: 'canceled', reason: 'canceled by alice', weights: { gcp: { 'v1.4.0': 100, 'v1.5.0': 0 } } });
    expect(h.router.canaryPercents()).toEqual([0, 10, 0]);
    expect(h.router.verified.at(-1)).toEqual({ 'v1.4.0': 100, 'v1.5.0': 0 });
    expect(out.next).toEqual({ kind: 'release', atVersion: after.version });
  });

  it('rollback with no baseline (prepare refused before resolving it) finishes without touching the router', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS, baseline: null, canary: { version: 'v9' } }));

    const out = await drive(h, d.id, (next) => next.kind === 'release');

    const after = await stored(h, d.id);
    expect(after.baseline).toBeNull();
    expect(after.phase).toBe('FAILED');
    expect(after.result).toMatchObject({ outcome: 'rolled back', reason: 'canary version v9 of checkout is not registered in the mesh' });
    expect(h.router.applied).toEqual([]);
    expect(h.router.verified).toEqual([]);
    expect(h.deps.registry.writeAttempts).toBe(0);
    expect(out.next.kind).toBe('release');
  });

  describe('a rollback before prepare moved anything leaves traffic as it was, even with a baseline named at creation', () => {
    async function servingV41(h: Harness): Promise<void> {
      await h.deps.registry.putSplit({ service: 'checkout', proxyGroup: HAPROXY_GROUP.name, weights: { v41: 100 }, revision: 1, updatedAt: T0.toISOString() });
    }

    it.each([
      { why: 'the canary is no longer registered', baseline: 'v1.4.0', canary: 'v9', reason: 'canary version v9 of checkout is not registered in the mesh' },
      { why: 'the named baseline is no longer registered', baseline: 'v7', canary: 'v42', reason: 'baseline version v7 of checkout is not registered in the mesh' },
    ])('prepare refused ($why): FAILED, the registry and the proxies untouched', async ({ baseline, canary, reason }) => {
      const h = harness();
      await servingV41(h);
      const d = await created(h, makeDeployment({ steps: TWO_SHIFTS, baseline: { version: baseline }, canary: { version: canary } }));

      await drive(h, d.id, (next) => next.kind === 'done');

      const after = await stored(h, d.id);
      expect(after.phase).toBe('FAILED');
      expect(after.result).toMatchObject({ outcome: 'rolled back', reason });
      expect(h.router.applied).toEqual([]);
      expect((await h.deps.registry.getService('checkout'))!.splits.map((s) => s.weights)).toEqual([{ v41: 100 }]);
      expect(await h.deps.locks.get('checkout')).toBeUndefined();
    });

    it('canceled while still pending: CANCELED, nothing moved', async () => {
      const h = harness();
      await servingV41(h);
      const d = await created(h, makeDeployment({ steps: TWO_SHIFTS, baseline: { version: 'v1.4.0' } }));
      await h.deps.deployments.update(cancelRequested(d, 'alice', null, h.deps.clock.now()).deployment);

      await drive(h, d.id, (next) => next.kind === 'done');

      expect((await stored(h, d.id)).phase).toBe('CANCELED');
      expect(h.router.applied).toEqual([]);
      expect((await h.deps.registry.getService('checkout'))!.splits.map((s) => s.weights)).toEqual([{ v41: 100 }]);
    });
  });

  it('release releases the lock and the run’s cap slots, and the run is done', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: [{ kind: 'setWeight', canaryPercent: 100, wave: null }] }));
    const atRelease = await drive(h, d.id, (next) => next.kind === 'release');
    expect(await h.deps.locks.get('checkout')).toMatchObject({ owner: d.id });
    for (const scope of ['cap#cloud:aws', 'cap#cloud:gcp']) await h.deps.slots.claim(scope, d.id, 3, T0.toISOString());
    await h.deps.slots.claim('cap#cloud:aws', 'dep_other', 3, T0.toISOString());

    const out = await runCanaryTask(h.canary, inputFor(d.id, atRelease.next));

    expect(out.next).toEqual({ kind: 'done', atVersion: atRelease.next.atVersion + 1 });
    expect(await h.deps.locks.get('checkout')).toBeUndefined();
    expect(await h.deps.slots.scopes()).toEqual([
      { scopeKey: 'cap#cloud:aws', holders: [{ holder: 'dep_other', claimedAt: T0.toISOString() }] },
      { scopeKey: 'cap#cloud:gcp', holders: [] },
    ]);
    const after = await stored(h, d.id);
    expect(after.run.released).toBe(true);
    expect(after.phase).toBe('SUCCEEDED');
    expect(h.router.canaryPercents()).toEqual([0, 100, 100]);
  });

  it('release of a lock that is not held still ends the run, with a warning', async () => {
    const h = harness();
    const d = await created(h, makeDeployment({ steps: [{ kind: 'setWeight', canaryPercent: 100, wave: null }] }));
    const atRelease = await drive(h, d.id, (next) => next.kind === 'release');
    await h.deps.locks.release('checkout', d.id);

    const out = await runCanaryTask(h.canary, inputFor(d.id, atRelease.next));

    expect(out.next.kind).toBe('done');
    expect(h.deps.logger.at('warn').map((l) => l.message)).toContain('deployment finished without holding its lock');
  });

  describe('when another deployment holds the service (this run’s lease ran out)', () => {
    async function takenOver(h: Harness, d: Deployment): Promise<void> {
      h.deps.clock.advance(h.deps.settings.lockLeaseMs + 1);
      await h.deps.locks.acquire({ service: 'checkout', owner: 'dep_other', now: h.deps.clock.now(), leaseMs: 60_000 });
      expect(await h.deps.locks.get('checkout')).toMatchObject({ owner: 'dep_other' });
      expect(d.id).not.toBe('dep_other');
    }

    it('promote leaves traffic alone and ends FAILED, saying why', async () => {
      const h = harness();
      const d = await created(h, makeDeployment({ steps: [{ kind: 'setWeight', canaryPercent: 50, wave: null }] }));
      const atPromote = await drive(h, d.id, (next) => next.kind === 'promote');
      await takenOver(h, d);
      const applied = h.router.applied.length;
      const splits = (await h.deps.registry.getService('checkout'))!.splits;

      const out = await runCanaryTask(h.canary, inputFor(d.id, atPromote.next));

      expect(h.router.applied).toHaveLength(applied);
      expect((await h.deps.registry.getService('checkout'))!.splits).toEqual(splits);
      const after = await stored(h, d.id);
      expect(after.phase).toBe('FAILED');
      expect(after.result).toMatchObject({ outcome: 'rolled back' });
      expect(after.result!['reason']).toMatch(new RegExp(`^deployment ${d.id} lost service checkout: service checkout is locked by dep_other`));
      expect(out.next.kind).toBe('release');

      await runCanaryTask(h.canary, inputFor(d.id, out.next));
      expect(await h.deps.locks.get('checkout')).toMatchObject({ owner: 'dep_other' });
    });

    it('rollback leaves traffic alone and keeps the final phase the operator asked for', async () => {
      const h = harness();
      const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
      await drive(h, d.id, (next) => next.kind === 'gate');
      await h.deps.deployments.update(cancelRequested(await stored(h, d.id), 'alice', null, h.deps.clock.now()).deployment);
      await takenOver(h, d);
      const applied = h.router.applied.length;

      const out = await drive(h, d.id, (next) => next.kind === 'release');

      expect(h.router.applied).toHaveLength(applied);
      const after = await stored(h, d.id);
      expect(after.phase).toBe('CANCELED');
      expect(after.result).toMatchObject({ outcome: 'canceled' });
      expect(out.next.kind).toBe('release');
    });
  });

  it('a full promotion asked before prepare ran still prepares first, then promotes for real', async () => {
    const h = harness();
    await h.deps.registry.putSplit({ service: 'checkout', proxyGroup: HAPROXY_GROUP.name, weights: { v41: 100 }, revision: 1, updatedAt: T0.toISOString() });
    const d = await created(h, makeDeployment({ steps: TWO_SHIFTS, baseline: null, canary: { version: 'v42' } }));
    const promoted = promoteRequested(d, true, 'alice', null, h.deps.clock.now()).deployment;
    await h.deps.deployments.update(promoted);

    await drive(h, d.id, (next) => next.kind === 'release');

    const after = await stored(h, d.id);
    expect(after.phase).toBe('SUCCEEDED');
    expect(after.baseline).toEqual({ version: 'v41' });
    expect(h.router.applied.map((a) => a.split)).toEqual([
      { v41: 100, v42: 0 },
      { v41: 0, v42: 100 },
    ]);
    expect(after.result).toMatchObject({ outcome: 'promoted', reason: 'promoted in full by alice', weights: { gcp: { v41: 0, v42: 100 } } });
  });
});

// ---- the judge ----

const BASELINE_SERIES = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.02, 0.98, 1.01, 0.99, 1.03, 0.97];
const SIMILAR_SERIES = [0.99, 1.0, 1.04, 0.96, 1.02, 1.0, 0.98, 1.06, 0.94, 1.01, 1.0, 1.0];
const WORSE_SERIES = BASELINE_SERIES.map((v) => v * 5);

function metric(name: string, provider: string, noData: NoDataPolicy = 'fail'): AnalysisMetric {
  return { name, group: name, provider, query: `${name}{service="{{service}}",version="{{version}}"}`, direction: 'increase', critical: false, noData, spreadCheck: false };
}

function analysisPlan(metrics: AnalysisMetric[], count = 2): Step[] {
  const template: AnalysisTemplate = { name: 'inline', stepSeconds: 10, thresholds: { pass: 95, marginal: 75 }, groupWeights: {}, metrics };
  return [{ kind: 'setWeight', canaryPercent: 10, wave: null }, { kind: 'analysis', template, intervalSeconds: 30, count }, { kind: 'setWeight', canaryPercent: 100, wave: null }];
}

function seriesOf(name: string, baseline: number[], canary: number[]): [string, number[]][] {
  return [
    [`${name}{service="checkout",version="v1.4.0"}`, baseline],
    [`${name}{service="checkout",version="v1.5.0"}`, canary],
  ];
}

function judgeHarness(providers: MetricsProvider[]): Harness {
  return harness({ metrics: new Map(providers.map((p) => [p.name, p])) });
}

const toJudge = (next: Instruction) => next.kind === 'judge';

describe('runCanaryTask: judge', () => {
  it('passing data: a recorded judgment with its score, and the inputs in the audit event', async () => {
    const prom = new MapMetrics('prom', new Map(seriesOf('error_rate', BASELINE_SERIES, SIMILAR_SERIES)));
    const h = judgeHarness([prom]);
    const d = await created(h, makeDeployment({ steps: analysisPlan([metric('error_rate', 'prom')]) }));
    const atJudge = await drive(h, d.id, toJudge);
    expect(atJudge.next).toMatchObject({ stepIndex: 1, run: 0 });

    const out = await runCanaryTask(h.canary, inputFor(d.id, atJudge.next));

    const after = await stored(h, d.id);
    expect(after.run.judgments).toEqual([{ stepIndex: 1, run: 0, at: h.deps.clock.now().toISOString(), score: 100, classification: 'Pass', reason: null }]);
    expect(after.run.analysisRuns).toBe(1);
    expect(after.stepIndex).toBe(1);
    expect(out.next).toMatchObject({ kind: 'wait', stepIndex: 1 });
    const [event] = events(h, 'deployment.judge');
    expect(event!.details).toMatchObject({
      judgment: { summary: { score: 100, classification: 'Pass' } },
      verdict: { status: 'running' },
      inputs: [{ metric: 'error_rate', provider: 'prom', queries: { baseline: 'error_rate{service="checkout",version="v1.4.0"}', canary: 'error_rate{service="checkout",version="v1.5.0"}' }, baseline: BASELINE_SERIES, canary: SIMILAR_SERIES }],
    });
    // The window is the step so far: from its start to now, at the template's resolution.
    expect(prom.asked.at(-1)!.window).toEqual({ start: new Date(after.run.stepStartedAt!), end: h.deps.clock.now(), stepSeconds: 10 });
    expect(prom.asked.at(-1)!.window.end.getTime() - prom.asked.at(-1)!.window.start.getTime()).toBe(30_000);
  });

  it('the last passing judgment completes the step', async () => {
    const prom = new MapMetrics('prom', new Map(seriesOf('error_rate', BASELINE_SERIES, SIMILAR_SERIES)));
    const h = judgeHarness([prom]);
    const d = await created(h, makeDeployment({ steps: analysisPlan([metric('error_rate', 'prom')], 2) }));

    await drive(h, d.id, (next) => next.kind === 'shift' && next.stepIndex === 2);

    const after = await stored(h, d.id);
    expect(after.run.judgments.map((j) => [j.stepIndex, j.run, j.score])).toEqual([
      [1, 0, 100],
      [1, 1, 100],
    ]);
    expect(events(h, 'deployment.judge').map((e) => (e.details['verdict'] as { status: string }).status)).toEqual(['running', 'passed']);
  });

  it('failing data: a rollback whose reason names the failing metric', async () => {
    const h = judgeHarness([new MapMetrics('prom', new Map(seriesOf('error_rate', BASELINE_SERIES, WORSE_SERIES)))]);
    const d = await created(h, makeDeployment({ steps: analysisPlan([metric('error_rate', 'prom')]) }));
    const atJudge = await drive(h, d.id, toJudge);

    const out = await runCanaryTask(h.canary, inputFor(d.id, atJudge.next));

    const after = await stored(h, d.id);
    expect(after.phase).toBe('ROLLING_BACK');
    expect(after.run.judgments).toMatchObject([{ score: 0, classification: 'Fail' }]);
    expect(out.next.kind).toBe('rollback');
    const reason = (out.next as Extract<Instruction, { kind: 'rollback' }>).reason;
    expect(reason).toMatch(/^analysis 2\/3 failed: judgment 1 scored 0, at or below the marginal threshold 75/);
    expect(reason).toContain('error_rate: High');
    expect(after.run.outcome).toEqual({ kind: 'rollback', reason, finalPhase: 'ROLLED_BACK' });
  });

  it('a query the provider refuses is a configuration fault: the task fails (and the run recovers into a rollback)', async () => {
    const prom = new MapMetrics('prom');
    prom.failure = new ValidationError('prom refused the query', 'query', 'query');
    const h = judgeHarness([prom]);
    const d = await created(h, makeDeployment({ steps: analysisPlan([metric('error_rate', 'prom')]) }));
    const atJudge = await drive(h, d.id, toJudge);

    expect(await rejectionOf(runCanaryTask(h.canary, inputFor(d.id, atJudge.next)))).toBeInstanceOf(ValidationError);
    expect((await stored(h, d.id)).version).toBe(atJudge.next.atVersion);
  });

  describe('a provider that cannot be reached counts as no data, and the metric’s policy decides', () => {
    const unreachable = () => new DependencyUnavailableError('prometheus flaky', 'query_range', { cause: new Error('ECONNREFUSED') });

    it('fail: the metric fails, and the audit event says why it had no data', async () => {
      const flaky = new MapMetrics('flaky');
      flaky.failure = unreachable();
      const h = judgeHarness([flaky]);
      const d = await created(h, makeDeployment({ steps: analysisPlan([metric('error_rate', 'flaky', 'fail')]) }));
      const atJudge = await drive(h, d.id, toJudge);

      const out = await runCanaryTask(h.canary, inputFor(d.id, atJudge.next));

      expect(out.next.kind).toBe('rollback');
      const [event] = events(h, 'deployment.judge');
      expect(event!.details).toMatchObject({
        judgment: { metrics: [{ metric: 'error_rate', label: 'NodataFailMetric' }], summary: { score: 0 } },
        inputs: [{ metric: 'error_rate', unavailable: flaky.failure.message, noDataPolicy: 'fail', baseline: [], canary: [] }],
      });
      expect(h.deps.logger.at('warn').map((l) => l.message)).toContain('metric unavailable: judged as no data');
    });

    it('ignore: the metric is not counted; the others decide', async () => {
      const prom = new MapMetrics('prom', new Map([...seriesOf('error_rate', BASELINE_SERIES, SIMILAR_SERIES), ...seriesOf('latency', BASELINE_SERIES, SIMILAR_SERIES)]));
      const flaky = new MapMetrics('flaky');
      flaky.failure = unreachable();
      const h = judgeHarness([prom, flaky]);
      const d = await created(h, makeDeployment({ steps: analysisPlan([metric('error_rate', 'prom'), metric('latency', 'prom'), metric('saturation', 'flaky', 'ignore')]) }));
      const atJudge = await drive(h, d.id, toJudge);

      const out = await runCanaryTask(h.canary, inputFor(d.id, atJudge.next));

      expect(out.next.kind).toBe('wait');
      expect((await stored(h, d.id)).run.judgments).toMatchObject([{ score: 100, classification: 'Pass' }]);
      const [event] = events(h, 'deployment.judge');
      expect(event!.details).toMatchObject({
        judgment: { metrics: [{ label: 'Pass' }, { label: 'Pass' }, { metric: 'saturation', label: 'Nodata' }] },
        inputs: [{ metric: 'error_rate' }, { metric: 'latency' }, { metric: 'saturation', unavailable: flaky.failure.message, noDataPolicy: 'ignore' }],
      });
    });

    it('wait: the judgment is deferred, up to count times, then the metric fails', async () => {
      const flaky = new MapMetrics('flaky');
      flaky.failure = unreachable();
      const h = judgeHarness([flaky]);
      const d = await created(h, makeDeployment({ steps: analysisPlan([metric('error_rate', 'flaky', 'wait')], 2) }));

      const first = await drive(h, d.id, toJudge);
      const deferred = await runCanaryTask(h.canary, inputFor(d.id, first.next));
      expect(deferred.next).toMatchObject({ kind: 'wait', stepIndex: 1 });
      expect((await stored(h, d.id)).run).toMatchObject({ analysisRuns: 0, analysisDeferrals: 1, judgments: [] });

      const second = await drive(h, d.id, toJudge);
      expect(second.next).toMatchObject({ kind: 'judge', run: 0 });
      await runCanaryTask(h.canary, inputFor(d.id, second.next));
      expect((await stored(h, d.id)).run).toMatchObject({ analysisRuns: 0, analysisDeferrals: 2, judgments: [] });

      const third = await drive(h, d.id, toJudge);
      const failed = await runCanaryTask(h.canary, inputFor(d.id, third.next));

      expect(failed.next.kind).toBe('rollback');
      const judged = events(h, 'deployment.judge');
      expect(judged).toHaveLength(3);
      expect(judged[0]!.details).toMatchObject({ deferred: 'no data yet for error_rate', inputs: [{ metric: 'error_rate', unavailable: flaky.failure.message, noDataPolicy: 'wait' }] });
      expect(judged[1]!.details).toMatchObject({ deferred: 'no data yet for error_rate' });
      expect(judged[2]!.details).toMatchObject({
        judgment: { metrics: [{ metric: 'error_rate', label: 'NodataFailMetric' }] },
        inputs: [{ metric: 'error_rate', unavailable: flaky.failure.message, noDataPolicy: 'wait' }],
      });
      expect(judged[2]!.details).not.toHaveProperty('deferred');
      // Each deferral put the judgment off by one interval of 30 s.
      expect((await stored(h, d.id)).run.waitedSeconds).toBe(90);
    });

    it('wait: data that arrives within the deferrals is judged as usual', async () => {
      const flaky = new MapMetrics('flaky', new Map(seriesOf('error_rate', BASELINE_SERIES, SIMILAR_SERIES)));
      flaky.failure = unreachable();
      const h = judgeHarness([flaky]);
      const d = await created(h, makeDeployment({ steps: analysisPlan([metric('error_rate', 'flaky', 'wait')], 2) }));
      const first = await drive(h, d.id, toJudge);
      await runCanaryTask(h.canary, inputFor(d.id, first.next));

      flaky.failure = undefined;
      const second = await drive(h, d.id, toJudge);
      const out = await runCanaryTask(h.canary, inputFor(d.id, second.next));

      expect(out.next.kind).toBe('wait');
      expect((await stored(h, d.id)).run).toMatchObject({ analysisRuns: 1, analysisDeferrals: 1, judgments: [{ score: 100 }] });
    });
  });
});

// decideNext is what every output carries.
it('every task answers decideNext of what it stored', async () => {
  const h = harness();
  const d = await created(h, makeDeployment({ steps: TWO_SHIFTS }));
  const out = await drive(h, d.id, (next) => next.kind === 'gate');
  expect(out.next).toEqual(decideNext(await stored(h, d.id)));
});
