/**
 * The canary state machine's definition (shared/workflow/canary.asl.json): valid Amazon States
 * Language, every transition lands on a state, every instruction of lifecycle.ts is routed, every
 * Task names an action the task function knows, and every failure path ends in Recover. Then the
 * real definition runs on the local engine (LocalStateMachine, holds and retries shortened) over
 * fakes: a plan to SUCCEEDED through a manual gate, a cancel during a 24 h pause (not shortened),
 * a converge that never converges, and a run that continues as new executions past the task bound.
 */
// @ts-expect-error asl-validator 4.0.0 ships no type declarations; its shape is declared below.
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { LocalStateMachine } from '../../../shared/adapters/workflow/local-state-machine.js';
import type { Deployment, Step } from '../../../shared/domain/deployment.js';
import type { InstructionKind } from '../../../shared/domain/lifecycle.js';
import type { Split } from '../../../shared/domain/mesh.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { TrafficRouter, Verification } from '../../../shared/ports/traffic-router.js';
import type { Workflow } from '../../../shared/ports/workflow.js';
import { runCanaryTask, TASK_ACTIONS } from '../../../shared/usecases/canary/run-task.js';
import { controlDeployment, type ControlRequest } from '../../../shared/usecases/control-deployment.js';
import { canaryDefinition, taskStateNames, type AslDefinition } from '../../../shared/workflow/definition.js';
import { parseTaskInput } from '../../../shared/workflow/task-input.js';
import { makeDeployment, T0 } from '../../support/deployments.js';
import { fakeHttpDeps, registeredTestVersions, type FakeHttpDeps } from '../../support/fakes.js';
import { InMemoryMeshRegistry, TEST_PROXY_GROUPS } from '../../support/mesh-fakes.js';

type AslValidator = (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => { isValid: boolean; errors: { message?: string }[]; errorsText: (separator?: string) => string };
const validateAsl = aslValidator as AslValidator;

type State = Record<string, unknown> & { Type: string };

function statesOf(d: AslDefinition = canaryDefinition()): Record<string, State> {
  return d.States as Record<string, State>;
}

/** Every kind of instruction decideNext can give; the Record makes the compiler fail when lifecycle.ts adds one. */
const INSTRUCTION_KINDS: Record<InstructionKind, true> = { prepare: true, shift: true, converge: true, wait: true, gate: true, unhold: true, judge: true, promote: true, rollback: true, release: true, done: true };

/** Each Task state's action: in Parameters, or in the Payload of a `.waitForTaskToken` invocation. */
function actionOf(state: State): unknown {
  const parameters = state['Parameters'] as Record<string, unknown> | undefined;
  const payload = parameters?.['Payload'] as Record<string, unknown> | undefined;
  return payload?.['action'] ?? parameters?.['action'];
}

interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string;
}

/** The failure paths: where each task's Catch leads when it is not Recover. */
const FAILURE_PATHS: Record<string, string> = { Recover: 'Abandon', Rollback: 'GiveUp', Release: 'LockLeftToExpire', GiveUp: 'Abandon', StartSuccessor: 'ContinuationFailed' };

/** Task states that act on the stored deployment alone, whatever the instruction was (or that call no task of ours). */
const UNGUARDED = ['Decide', 'Recover', 'GiveUp', 'EndHold', 'HoldTimedOut', 'PrepareContinuation', 'StartSuccessor'];

/** The Route choices that dispatch on the instruction (the first choice is the continuation rule). */
function dispatching(states: Record<string, State>): { Variable: string; StringEquals: string; Next: string }[] {
  return (states['Route']!['Choices'] as { Variable?: string; StringEquals: string; Next: string }[]).filter((c): c is { Variable: string; StringEquals: string; Next: string } => c.Variable === '$.next.kind');
}

describe('canary.asl.json', () => {
  it('is valid Amazon States Language (asl-validator), paths and ARNs checked', () => {
    const result = validateAsl(canaryDefinition(), { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('the validator does refuse a broken definition (so the check above means something)', () => {
    const broken = canaryDefinition();
    (statesOf(broken)['Route']!['Choices'] as { Next: string }[])[0]!.Next = 'NoSuchState';
    expect(validateAsl(broken).isValid).toBe(false);
  });

  it('starts at a state that exists; every Next, Choice target, Default and Catch target exists', () => {
    const definition = canaryDefinition();
    const states = statesOf(definition);
    const names = new Set(Object.keys(states));
    expect(names.has(definition.StartAt)).toBe(true);
    const targets: [string, unknown][] = [];
    for (const [name, state] of Object.entries(states)) {
      if (state['Next'] !== undefined) targets.push([`${name}.Next`, state['Next']]);
      if (state.Type === 'Choice') {
        (state['Choices'] as { Next: string }[]).forEach((choice, index) => targets.push([`${name}.Choices[${index}]`, choice.Next]));
        targets.push([`${name}.Default`, state['Default']]);
      }
      ((state['Catch'] as Catcher[] | undefined) ?? []).forEach((c, index) => targets.push([`${name}.Catch[${index}]`, c.Next]));
    }
    expect(targets.length).toBeGreaterThan(20);
    expect(targets.filter(([, target]) => typeof target !== 'string' || !names.has(target))).toEqual([]);
  });

  it('Route first continues as a new execution past the task bound (unless the run is done), then has one choice per instruction kind, on $.next.kind', () => {
    const states = statesOf();
    const route = states['Route']!;
    expect(route.Type).toBe('Choice');
    const [first] = route['Choices'] as Record<string, unknown>[];
    expect(first).toEqual({ And: [{ Variable: '$.loop', NumericGreaterThanEquals: expect.any(Number) }, { Not: { Variable: '$.next.kind', StringEquals: 'done' } }], Next: 'PrepareContinuation' });
    expect(states['PrepareContinuation']!['Next']).toBe('StartSuccessor');
    expect(states['StartSuccessor']!['Resource']).toBe('arn:aws:states:::states:startExecution');
    expect(states['StartSuccessor']!['Next']).toBe('Continued');
    expect(states['Continued']!.Type).toBe('Succeed');
    const choices = dispatching(states);
    expect(choices).toHaveLength((route['Choices'] as unknown[]).length - 1);
    expect(choices.map((c) => c.StringEquals).sort()).toEqual(Object.keys(INSTRUCTION_KINDS).sort());
    expect(route['Default']).toBe('UnknownInstruction');
  });

  it('routes each instruction to the state whose task carries it out; a wait and a gate are one Hold', () => {
    const states = statesOf();
    const routed = Object.fromEntries(dispatching(states).map((c) => [c.StringEquals, c.Next]));
    const action = (name: string | undefined) => (name === undefined ? undefined : actionOf(states[name]!));
    expect(routed['wait']).toBe('Hold');
    expect(routed['gate']).toBe('Hold');
    expect(action('Hold')).toBe('hold');
    expect(action(routed['unhold'])).toBe('unhold');
    expect(states[routed['done']!]!.Type).toBe('Succeed');
    for (const kind of ['prepare', 'shift', 'converge', 'judge', 'promote', 'rollback', 'release'] as const) expect(action(routed[kind])).toBe(kind);
  });

  it('the Hold waits on its task token for the instruction’s seconds: woken it goes to EndHold, timed out to HoldTimedOut, both closing the hold', () => {
    const states = statesOf();
    const hold = states['Hold']!;
    expect(hold['Resource']).toMatch(/\.waitForTaskToken$/);
    expect((hold['Parameters'] as { Payload: Record<string, unknown> }).Payload['token.$']).toBe('$$.Task.Token');
    expect(hold['TimeoutSecondsPath']).toBe('$.next.seconds');
    expect(hold['ResultPath']).toBeNull();
    expect(hold['Next']).toBe('EndHold');
    expect((hold['Catch'] as Catcher[])[0]).toEqual({ ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'HoldTimedOut' });
    expect(actionOf(states['EndHold']!)).toBe('unhold');
    expect((states['HoldTimedOut']!['Parameters'] as Record<string, unknown>)['timedOut']).toBe(true);
    expect((states['EndHold']!['Parameters'] as Record<string, unknown>)['timedOut']).toBeUndefined();
  });

  it('every task of ours but Decide counts the loop ($.loop), which bounds an execution’s history', () => {
    const states = statesOf();
    for (const name of taskStateNames().filter((n) => n !== 'StartSuccessor')) {
      const parameters = states[name]!['Parameters'] as Record<string, unknown>;
      const passed = (parameters['Payload'] as Record<string, unknown> | undefined) ?? parameters;
      expect(passed['loop.$'], name).toBe(name === 'Decide' ? undefined : '$.loop');
    }
  });

  it('every Task state’s action is one of TASK_ACTIONS, and every action has a state', () => {
    const states = statesOf();
    const actions = taskStateNames()
      .filter((name) => name !== 'StartSuccessor')
      .map((name) => actionOf(states[name]!));
    expect(actions.filter((a) => !(TASK_ACTIONS as readonly unknown[]).includes(a))).toEqual([]);
    expect([...new Set(actions)].sort()).toEqual([...TASK_ACTIONS].sort());
  });

  it('every guarded Task hands over the instruction that led to it ($.next); the unguarded ones act on the stored deployment', () => {
    const states = statesOf();
    for (const name of taskStateNames().filter((n) => n !== 'StartSuccessor')) {
      const parameters = states[name]!['Parameters'] as Record<string, unknown>;
      const passed = (parameters['Payload'] as Record<string, unknown> | undefined) ?? parameters;
      expect(passed['deploymentId.$'], name).toBe('$.deploymentId');
      // Decide may come first (no instruction yet); the others act whatever the instruction was.
      if (UNGUARDED.includes(name)) expect(passed['expect.$'], name).toBeUndefined();
      else expect(passed['expect.$'], name).toBe('$.next');
    }
    expect((states['PrepareContinuation']!['Parameters'] as Record<string, unknown>)['execution.$']).toBe('$$.Execution.Name');
  });

  it('every Task (but the failure paths themselves) catches everything into Recover last, keeping the error in $.error', () => {
    const states = statesOf();
    for (const name of taskStateNames()) {
      const catchers = (states[name]!['Catch'] as Catcher[] | undefined) ?? [];
      // Only the Hold (its timeout) and StartSuccessor (a successor started already) catch something first.
      expect(catchers, `${name}'s Catch`).toHaveLength(name === 'Hold' || name === 'StartSuccessor' ? 2 : 1);
      const last = catchers.at(-1)!;
      expect(last.ErrorEquals, name).toEqual(['States.ALL']);
      expect(last.ResultPath, name).toBe('$.error');
      expect(last.Next, name).toBe(FAILURE_PATHS[name] ?? 'Recover');
    }
    expect(Object.keys(FAILURE_PATHS).every((name) => taskStateNames().includes(name))).toBe(true);
  });

  it('retries by the error names crossfade throws: convergence on NotConvergedError, stores on DependencyUnavailableError and VersionConflictError', () => {
    const states = statesOf();
    const retried = (name: string) => ((states[name]!['Retry'] as { ErrorEquals: string[] }[] | undefined) ?? []).flatMap((r) => r.ErrorEquals);
    for (const name of ['AwaitConvergence', 'Promote']) expect(retried(name)).toContain('NotConvergedError');
    for (const name of taskStateNames().filter((n) => !(n in FAILURE_PATHS) || n === 'Release')) {
      if (name === 'StartSuccessor') continue;
      expect(retried(name), name).toEqual(expect.arrayContaining(['DependencyUnavailableError', 'VersionConflictError']));
    }
    expect(retried('Rollback')).toEqual(['States.ALL']);
  });

  it('has no Wait state: time passes only in holds, which a request wakes at once', () => {
    expect(Object.values(statesOf()).filter((state) => state.Type === 'Wait')).toEqual([]);
  });
});

// ---- the definition, run ----

const HAPROXY_GROUP = TEST_PROXY_GROUPS.find((g) => g.kind === 'haproxy')!;
const CANARY = 'v42';

class ScriptedRouter implements TrafficRouter {
  readonly applied: Split[] = [];
  readonly verified: Split[] = [];
  /** What the proxies serve: converged unless this says otherwise for the split asked. */
  answer: (split: Split) => Verification = () => ({ state: 'converged' });

  async applySplit(_group: unknown, _service: string, _backend: unknown, split: Split): Promise<void> {
    this.applied.push({ ...split });
  }
  async verifySplit(_group: unknown, _service: string, _backend: unknown, split: Split): Promise<Verification> {
    this.verified.push({ ...split });
    return this.answer(split);
  }
}

type RunDeps = Omit<FakeHttpDeps, 'clock' | 'workflow'> & { clock: Clock; workflow: Workflow };

interface Run {
  deps: RunDeps;
  router: ScriptedRouter;
  machine: LocalStateMachine;
  deployment: Deployment;
}

const realTime: Clock = { now: () => new Date() };

/** A fresh registry where v41 serves 100%; the deployment (baseline resolved at prepare) holds the lock and its run is started. */
async function started(steps: Step[], options: { router?: ScriptedRouter; waitMs?: number | undefined; definition?: AslDefinition } = {}): Promise<Run> {
  const router = options.router ?? new ScriptedRouter();
  const registry = InMemoryMeshRegistry.with(registeredTestVersions());
  await registry.putSplit({ service: 'checkout', proxyGroup: HAPROXY_GROUP.name, weights: { v41: 100 }, revision: 1, updatedAt: T0.toISOString() });
  const base = fakeHttpDeps({ registry, proxyGroups: [HAPROXY_GROUP], routers: { haproxy: router } });
  const deps: RunDeps = { ...base, clock: realTime, settings: { lockLeaseMs: 60_000 } };
  const waitMs = 'waitMs' in options ? options.waitMs : 1;
  const machine = new LocalStateMachine({ definition: (options.definition ?? canaryDefinition()) as never, runTask: (input) => runCanaryTask(deps, parseTaskInput(input)), logger: deps.logger, waitMs, retryMs: 1 });
  deps.workflow = machine;
  const deployment = makeDeployment({ steps, baseline: null, canary: { version: CANARY } }, new Date());
  await deps.deployments.createIfAbsent(deployment);
  await deps.locks.acquire({ service: 'checkout', owner: deployment.id, now: deps.clock.now(), leaseMs: deps.settings.lockLeaseMs });
  await machine.start(deployment.id);
  return { deps, router, machine, deployment };
}

async function current(run: Run): Promise<Deployment> {
  return (await run.deps.deployments.get(run.deployment.id))!;
}

/** Polls until `check` holds for the stored deployment; fails naming where it is after `timeoutMs`. */
async function until(run: Run, check: (d: Deployment) => boolean, timeoutMs = 10_000): Promise<Deployment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await current(run);
    if (check(d)) return d;
    if (Date.now() > deadline) {
      run.machine.stop();
      throw new Error(`the run never got there: ${JSON.stringify({ phase: d.phase, stepIndex: d.stepIndex, run: d.run })}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function control(run: Run, request: ControlRequest): Promise<Deployment> {
  return controlDeployment(run.deps, { deploymentId: run.deployment.id, request, actor: 'alice', reason: null, authorize: () => undefined });
}

function actions(run: Run): string[] {
  return run.deps.audit
    .all()
    .filter((e) => e.subject === `deployment/${run.deployment.id}`)
    .sort((a, b) => (a.eventId < b.eventId ? -1 : 1))
    .map((e) => e.action.replace('deployment.', ''));
}

/** Settles the run, with a deadline so a stuck run fails the test instead of hanging it. */
async function settled(run: Run, timeoutMs = 10_000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      run.machine.stop();
      resolve('timed out');
    }, timeoutMs);
  });
  try {
    return await Promise.race([run.machine.settled(run.deployment.id), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the definition run on LocalStateMachine (timed holds and retries 1 ms unless said, a real-time clock)', () => {
  it('setWeight 10, a timed pause, a manual gate resumed by an operator, setWeight 100: SUCCEEDED, lock released', async () => {
    const run = await started(
      [
        { kind: 'setWeight', canaryPercent: 10, wave: null },
        { kind: 'pause', durationSeconds: 30 },
        { kind: 'pause', durationSeconds: null },
        { kind: 'setWeight', canaryPercent: 100, wave: null },
      ],
    );

    const atGate = await until(run, (d) => d.run.hold?.kind === 'gate');
    expect(atGate.stepIndex).toBe(2);
    expect(atGate.phase).toBe('PAUSED');
    await control(run, { kind: 'resume' });

    expect(await settled(run)).toBe('succeeded');
    const d = await current(run);
    expect(d.phase).toBe('SUCCEEDED');
    expect(d.run.released).toBe(true);
    expect(d.baseline).toEqual({ version: 'v41' });
    expect(d.result).toMatchObject({ outcome: 'promoted', weights: { gcp: { v41: 0, v42: 100 } } });
    expect(await run.deps.locks.get('checkout')).toBeUndefined();
    expect(run.router.applied.map((s) => s[CANARY])).toEqual([0, 10, 100, 100]);
    // The 30 s pause is one hold that timed out (its start and end); the gate is one hold that the resume woke.
    expect(actions(run)).toEqual(['prepare', 'shift', 'converge', 'hold', 'unhold', 'hold', 'resume', 'unhold', 'shift', 'converge', 'promote', 'release']);
  });

  it('a cancel during a 24 h pause (not shortened: one real 24 h hold) wakes the run at once: CANCELED, baseline back at 100%, lock released', async () => {
    const run = await started(
      [
        { kind: 'setWeight', canaryPercent: 10, wave: null },
        { kind: 'pause', durationSeconds: 86_400 },
        { kind: 'setWeight', canaryPercent: 100, wave: null },
      ],
      { waitMs: undefined },
    );

    await until(run, (d) => d.stepIndex === 1 && d.run.hold !== null);
    const canceledAt = Date.now();
    await control(run, { kind: 'cancel' });

    expect(await settled(run)).toBe('succeeded');
    // Measured, not asserted (tests never assert timings): the note of issue 8 reports it.
    console.log(`cancel during a 24 h pause: the run ended ${Date.now() - canceledAt} ms after the cancel`);
    const d = await current(run);
    expect(d.phase).toBe('CANCELED');
    expect(d.result).toMatchObject({ outcome: 'canceled', reason: 'canceled by alice', weights: { gcp: { v41: 100, v42: 0 } } });
    expect(d.run.waitedSeconds).toBe(0);
    expect(d.run.released).toBe(true);
    expect(run.router.applied.map((s) => s[CANARY])).toEqual([0, 10, 0]);
    expect(await run.deps.locks.get('checkout')).toBeUndefined();
    expect(actions(run).slice(-4)).toEqual(['cancel', 'unhold', 'rollback', 'release']);
  });

  it('a converge that never converges is retried, then rolled back (the rollback converges), lock released', async () => {
    const router = new ScriptedRouter();
    router.answer = (split) => ((split[CANARY] ?? 0) > 0 ? { state: 'pending', lagging: [{ proxy: 'edge-1', reason: `serves ${CANARY} at 0%` }] } : { state: 'converged' });
    const run = await started(
      [
        { kind: 'setWeight', canaryPercent: 10, wave: null },
        { kind: 'setWeight', canaryPercent: 100, wave: null },
      ],
      { router },
    );

    expect(await settled(run)).toBe('succeeded');
    const d = await current(run);
    expect(d.phase).toBe('ROLLED_BACK');
    expect(d.stepIndex).toBe(0);
    expect(d.result).toMatchObject({ outcome: 'rolled back', weights: { gcp: { v41: 100, v42: 0 } } });
    const reason = String(d.result!['reason']);
    expect(reason).toContain('NotConvergedError');
    expect(reason).toContain('haproxy-gcp-usc1/edge-1');
    expect(reason).toMatch(/; rolled back$/);
    // The first attempt and the definition's 12 retries, all on the step's split; then the rollback's.
    expect(router.verified.filter((s) => s[CANARY] === 10)).toHaveLength(13);
    expect(router.verified.at(-1)).toEqual({ v41: 100, v42: 0 });
    // Each attempt that found the proxy lagging programmed it again from the registry.
    expect(router.applied.map((s) => s[CANARY])).toEqual([0, 10, ...Array<number>(13).fill(10), 0]);
    expect(await run.deps.locks.get('checkout')).toBeUndefined();
    expect(actions(run)).toEqual(['prepare', 'shift', 'recover', 'rollback', 'release']);
  });
});
