/**
 * The canary state machine's definition (shared/workflow/canary.asl.json): valid Amazon States
 * Language, every transition lands on a state, every instruction of lifecycle.ts is routed, every
 * Task names an action the task function knows, and every failure path ends in Recover. Then the
 * real definition runs on the local engine (LocalStateMachine, waits and retries shortened) over
 * fakes: a plan to SUCCEEDED through a manual gate, a cancel during a long pause, and a converge
 * that never converges.
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
import { canaryDefinition, taskStateNames, waitStateNames, type AslDefinition } from '../../../shared/workflow/definition.js';
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
const INSTRUCTION_KINDS: Record<InstructionKind, true> = { prepare: true, shift: true, converge: true, wait: true, gate: true, judge: true, promote: true, rollback: true, release: true, done: true };

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
const FAILURE_PATHS: Record<string, string> = { Recover: 'Abandon', Rollback: 'GiveUp', Release: 'LockLeftToExpire', GiveUp: 'Abandon' };

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

  it('Route has exactly one choice per instruction kind of lifecycle.ts, on $.next.kind', () => {
    const route = statesOf()['Route']!;
    expect(route.Type).toBe('Choice');
    const choices = route['Choices'] as { Variable: string; StringEquals: string; Next: string }[];
    expect(choices.every((c) => c.Variable === '$.next.kind')).toBe(true);
    expect(choices.map((c) => c.StringEquals).sort()).toEqual(Object.keys(INSTRUCTION_KINDS).sort());
    expect(route['Default']).toBe('UnknownInstruction');
  });

  it('routes each instruction to the state whose task carries it out', () => {
    const states = statesOf();
    const route = states['Route']!['Choices'] as { StringEquals: string; Next: string }[];
    const routed = Object.fromEntries(route.map((c) => [c.StringEquals, c.Next]));
    const action = (name: string | undefined) => (name === undefined ? undefined : actionOf(states[name]!));
    expect(routed['wait'] && states[routed['wait']]!.Type).toBe('Wait');
    expect(action(states[routed['wait']!]!['Next'] as string)).toBe('waited');
    expect(states[routed['done']!]!.Type).toBe('Succeed');
    for (const kind of ['prepare', 'shift', 'converge', 'gate', 'judge', 'promote', 'rollback', 'release'] as const) expect(action(routed[kind])).toBe(kind);
  });

  it('every Task state’s action is one of TASK_ACTIONS, and every action but decide has a state', () => {
    const states = statesOf();
    const actions = taskStateNames().map((name) => actionOf(states[name]!));
    expect(actions.filter((a) => !(TASK_ACTIONS as readonly unknown[]).includes(a))).toEqual([]);
    expect([...new Set(actions)].sort()).toEqual([...TASK_ACTIONS].sort());
  });

  it('every Task but Decide, Recover and GiveUp hands over the instruction that led to it ($.next), the gate its task token too', () => {
    const states = statesOf();
    for (const name of taskStateNames()) {
      const parameters = states[name]!['Parameters'] as Record<string, unknown>;
      const passed = (parameters['Payload'] as Record<string, unknown> | undefined) ?? parameters;
      expect(passed['deploymentId.$'], name).toBe('$.deploymentId');
      // Decide may come first (no instruction yet); Recover and GiveUp act whatever the instruction was.
      if (['Decide', 'Recover', 'GiveUp'].includes(name)) expect(passed['expect.$'], name).toBeUndefined();
      else expect(passed['expect.$'], name).toBe('$.next');
    }
    const gate = states['Gate']!;
    expect(gate['Resource']).toMatch(/\.waitForTaskToken$/);
    expect((gate['Parameters'] as { Payload: Record<string, unknown> }).Payload['token.$']).toBe('$$.Task.Token');
  });

  it('every Task (but the failure paths themselves) catches everything into Recover, keeping the error in $.error', () => {
    const states = statesOf();
    for (const name of taskStateNames()) {
      const catchers = (states[name]!['Catch'] as Catcher[] | undefined) ?? [];
      expect(catchers, `${name} has no Catch`).toHaveLength(1);
      expect(catchers[0]!.ErrorEquals, name).toEqual(['States.ALL']);
      expect(catchers[0]!.ResultPath, name).toBe('$.error');
      expect(catchers[0]!.Next, name).toBe(FAILURE_PATHS[name] ?? 'Recover');
    }
    expect(Object.keys(FAILURE_PATHS).every((name) => taskStateNames().includes(name))).toBe(true);
  });

  it('retries by the error names crossfade throws: convergence on NotConvergedError, stores on DependencyUnavailableError and VersionConflictError', () => {
    const states = statesOf();
    const retried = (name: string) => ((states[name]!['Retry'] as { ErrorEquals: string[] }[] | undefined) ?? []).flatMap((r) => r.ErrorEquals);
    for (const name of ['AwaitConvergence', 'Promote']) expect(retried(name)).toContain('NotConvergedError');
    for (const name of taskStateNames().filter((n) => !(n in FAILURE_PATHS) || n === 'Release')) {
      expect(retried(name), name).toEqual(expect.arrayContaining(['DependencyUnavailableError', 'VersionConflictError']));
    }
    expect(retried('Rollback')).toEqual(['States.ALL']);
  });

  it('the Wait state takes its seconds from the instruction', () => {
    expect(waitStateNames()).toEqual(['Wait']);
    expect(statesOf()['Wait']!['SecondsPath']).toBe('$.next.seconds');
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
async function started(steps: Step[], waitChunkSeconds: number, router = new ScriptedRouter()): Promise<Run> {
  const registry = InMemoryMeshRegistry.with(registeredTestVersions());
  await registry.putSplit({ service: 'checkout', proxyGroup: HAPROXY_GROUP.name, weights: { v41: 100 }, revision: 1, updatedAt: T0.toISOString() });
  const base = fakeHttpDeps({ registry, proxyGroups: [HAPROXY_GROUP], routers: { haproxy: router } });
  const deps: RunDeps = { ...base, clock: realTime, settings: { waitChunkSeconds, lockLeaseMs: 60_000 } };
  const machine = new LocalStateMachine({ definition: canaryDefinition() as never, runTask: (input) => runCanaryTask(deps, parseTaskInput(input)), logger: deps.logger, waitMs: 1, retryMs: 1 });
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

describe('the definition run on LocalStateMachine (waits and retries 1 ms, a real-time clock)', () => {
  it('setWeight 10, a timed pause, a manual gate resumed by an operator, setWeight 100: SUCCEEDED, lock released', async () => {
    const run = await started(
      [
        { kind: 'setWeight', canaryPercent: 10, wave: null },
        { kind: 'pause', durationSeconds: 30 },
        { kind: 'pause', durationSeconds: null },
        { kind: 'setWeight', canaryPercent: 100, wave: null },
      ],
      10,
    );

    const atGate = await until(run, (d) => d.run.gateToken !== null);
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
    expect(actions(run)).toEqual(['prepare', 'shift', 'converge', 'waited', 'waited', 'waited', 'gate', 'resume', 'shift', 'converge', 'promote', 'release']);
  });

  it('a cancel during a long pause (waited in chunks of 1 s) is seen at the next chunk: CANCELED, baseline back at 100%, lock released', async () => {
    const run = await started(
      [
        { kind: 'setWeight', canaryPercent: 10, wave: null },
        { kind: 'pause', durationSeconds: 86_400 },
        { kind: 'setWeight', canaryPercent: 100, wave: null },
      ],
      1,
    );

    await until(run, (d) => d.stepIndex === 1 && d.run.waitedSeconds >= 3);
    await control(run, { kind: 'cancel' });

    expect(await settled(run)).toBe('succeeded');
    const d = await current(run);
    expect(d.phase).toBe('CANCELED');
    expect(d.result).toMatchObject({ outcome: 'canceled', reason: 'canceled by alice', weights: { gcp: { v41: 100, v42: 0 } } });
    expect(d.run.waitedSeconds).toBeLessThan(86_400);
    expect(d.run.released).toBe(true);
    expect(run.router.applied.map((s) => s[CANARY])).toEqual([0, 10, 0]);
    expect(await run.deps.locks.get('checkout')).toBeUndefined();
    expect(actions(run).slice(-3)).toEqual(['cancel', 'rollback', 'release']);
  });

  it('a converge that never converges is retried, then rolled back (the rollback converges), lock released', async () => {
    const router = new ScriptedRouter();
    router.answer = (split) => ((split[CANARY] ?? 0) > 0 ? { state: 'pending', lagging: [{ proxy: 'edge-1', reason: `serves ${CANARY} at 0%` }] } : { state: 'converged' });
    const run = await started(
      [
        { kind: 'setWeight', canaryPercent: 10, wave: null },
        { kind: 'setWeight', canaryPercent: 100, wave: null },
      ],
      10,
      router,
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
    expect(router.applied.map((s) => s[CANARY])).toEqual([0, 10, 0]);
    expect(await run.deps.locks.get('checkout')).toBeUndefined();
    expect(actions(run)).toEqual(['prepare', 'shift', 'recover', 'rollback', 'release']);
  });
});
