/**
 * What AWS Step Functions records for a canary run: history events per execution (at most 25,000
 * in a Standard execution) and state transitions (what a Standard workflow is billed by), counted
 * from the definition (shared/workflow/canary.asl.json) and the pure lifecycle (decideNext and the
 * transitions each task makes), with every task succeeding at its first attempt — and, for the
 * bound, with every retry of the states a loop passes exhausted.
 *
 * Events per state, as Step Functions writes them:
 * - a Task on a Lambda ARN: TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted,
 *   LambdaFunctionSucceeded, TaskStateExited (5); each failed attempt adds Scheduled, Started, Failed (3);
 * - a service integration (`lambda:invoke.waitForTaskToken`, `states:startExecution`):
 *   TaskStateEntered, TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded or TaskTimedOut,
 *   TaskStateExited (6); each failed attempt adds 3;
 * - Choice, Succeed, Fail: entered and exited (2); the execution itself: started and ended (2).
 * Each state entered is one state transition.
 */
import { initialRunState, newDeployment, type Deployment, type Step } from '../../shared/domain/deployment.js';
import { decideNext, finished, heldSeconds, holdClosed, holdOpened, judged, prepared, released, shifted, stepCompleted, type Instruction } from '../../shared/domain/lifecycle.js';
import type { AslDefinition } from '../../shared/workflow/definition.js';

/** Step Functions' limit of history events per Standard execution. */
export const HISTORY_EVENT_LIMIT = 25_000;

type State = Record<string, unknown> & { Type: string };

export interface StateCost {
  /** Events when it succeeds at its first attempt. */
  events: number;
  /** Events with every retrier exhausted (the attempt after the last retry fails too). */
  worstEvents: number;
}

export function stateCost(state: State): StateCost {
  if (state.Type !== 'Task') return { events: 2, worstEvents: 2 };
  const integration = typeof state['Resource'] === 'string' && state['Resource'].startsWith('arn:aws:states:::');
  const events = integration ? 6 : 5;
  const retries = ((state['Retry'] as { MaxAttempts?: number }[] | undefined) ?? []).reduce((sum, r) => sum + (r.MaxAttempts ?? 3), 0);
  return { events, worstEvents: events + 3 * retries };
}

/** The loop bound of the definition: Route continues as a new execution once $.loop reaches it. */
export function loopBound(definition: AslDefinition): number {
  const choices = definition.States['Route']!['Choices'] as { And?: { NumericGreaterThanEquals?: number }[] }[];
  const bound = choices[0]?.And?.[0]?.NumericGreaterThanEquals;
  if (bound === undefined) throw new Error('Route does not start with the continuation rule');
  return bound;
}

/** The states one loop passes through after Route for an instruction (a hold is Hold then EndHold or HoldTimedOut). */
export function statesOfLoop(kind: Instruction['kind']): string[] {
  switch (kind) {
    case 'prepare':
      return ['Prepare'];
    case 'shift':
      return ['Shift'];
    case 'converge':
      return ['AwaitConvergence'];
    case 'wait':
      return ['Hold', 'HoldTimedOut'];
    case 'gate':
      return ['Hold', 'EndHold'];
    case 'unhold':
      return ['EndHold'];
    case 'judge':
      return ['Judge'];
    case 'promote':
      return ['Promote'];
    case 'rollback':
      return ['Rollback', 'GiveUp'];
    case 'release':
      return ['Release'];
    case 'done':
      return ['Done'];
  }
}

/**
 * The most events one loop can record: Route, the states of the loop with every retry exhausted,
 * and the failure path that follows a state that fails for good (Recover, itself retried).
 */
export function worstEventsPerLoop(definition: AslDefinition): number {
  const cost = worstCostIn(definition);
  const kinds: Instruction['kind'][] = ['prepare', 'shift', 'converge', 'wait', 'gate', 'unhold', 'judge', 'promote', 'rollback', 'release'];
  return Math.max(...kinds.map((kind) => cost('Route') + statesOfLoop(kind).reduce((sum, name) => sum + cost(name), 0) + cost('Recover')));
}

/** Events an execution records besides its loops: started and ended, Decide, and its continuation (PrepareContinuation, StartSuccessor, Continued). */
export function worstOverhead(definition: AslDefinition): number {
  const cost = worstCostIn(definition);
  return 2 + cost('Decide') + cost('Route') + cost('PrepareContinuation') + cost('StartSuccessor') + cost('Continued');
}

/** A state's events at their worst, by name. */
function worstCostIn(definition: AslDefinition): (name: string) => number {
  const states = definition.States as Record<string, State>;
  return (name) => stateCost(states[name]!).worstEvents;
}

export interface ExecutionHistory {
  loops: number;
  /** Events recorded with every task succeeding at its first attempt. */
  events: number;
  /** The bound: every loop at its worst, plus the overhead at its worst. */
  worstEvents: number;
  transitions: number;
}

export interface RunHistory {
  executions: ExecutionHistory[];
  transitions: number;
  /** Judgments and holds made, to say what the run was. */
  judgments: number;
  holds: number;
}

/**
 * Runs `steps` through the lifecycle as the state machine would, every task succeeding, every
 * judgment passing, every hold timing out (a manual gate is promoted when it is reached), and
 * counts what each execution records.
 */
export function historyOfRun(definition: AslDefinition, steps: Step[]): RunHistory {
  const states = definition.States as Record<string, State>;
  const events = (name: string) => stateCost(states[name]!).events;
  const bound = loopBound(definition);
  const worstLoop = worstEventsPerLoop(definition);
  const overhead = worstOverhead(definition);
  const at = new Date('2026-01-01T00:00:00.000Z');
  let d: Deployment = newDeployment({ id: 'dep_history', service: 'svc', baseline: { version: 'v1' }, canary: { version: 'v2' }, targets: [], steps, createdBy: 'test', reason: null, spinnaker: null }, at);
  d = { ...d, run: { ...initialRunState } };
  const executions: ExecutionHistory[] = [];
  let judgments = 0;
  let holds = 0;
  let current = newExecution(events);
  for (let guard = 0; guard < 1_000_000; guard++) {
    const next = decideNext(d);
    current.events += events('Route');
    current.transitions += 1;
    if (current.loops >= bound && next.kind !== 'done') {
      for (const name of ['PrepareContinuation', 'StartSuccessor', 'Continued']) {
        current.events += events(name);
        current.transitions += 1;
      }
      executions.push(close(current, worstLoop, overhead));
      current = newExecution(events);
      continue;
    }
    for (const name of statesOfLoop(next.kind).filter((n) => n !== 'GiveUp')) {
      current.events += events(name);
      current.transitions += 1;
    }
    current.loops += 1;
    if (next.kind === 'done') break;
    if (next.kind === 'wait' || next.kind === 'gate') holds += 1;
    if (next.kind === 'judge') judgments += 1;
    d = carryOut(d, next, at);
  }
  executions.push(close(current, worstLoop, overhead));
  return { executions, transitions: executions.reduce((sum, e) => sum + e.transitions, 0), judgments, holds };
}

function newExecution(events: (name: string) => number): ExecutionHistory {
  // ExecutionStarted, then Decide (its output is loop 1).
  return { loops: 1, events: 1 + events('Decide'), worstEvents: 0, transitions: 1 };
}

function close(execution: ExecutionHistory, worstLoop: number, overhead: number): ExecutionHistory {
  return { loops: execution.loops, events: execution.events + 1, worstEvents: execution.loops * worstLoop + overhead, transitions: execution.transitions };
}

/** What the task of `instruction` writes when everything goes well (a gate is passed by a promote). */
function carryOut(d: Deployment, instruction: Instruction, now: Date): Deployment {
  switch (instruction.kind) {
    case 'prepare':
      return prepared(d, { baseline: 'v1', weights: {}, fencingToken: 1 }, now);
    case 'shift':
      return shifted(d, {}, now);
    case 'converge':
      return stepCompleted(d, now);
    case 'wait': {
      const open = holdOpened(d, { token: 't', kind: 'wait', seconds: instruction.seconds }, now);
      return holdClosed(open, heldSeconds(open.run.hold!, true, now), now);
    }
    case 'gate':
      return stepCompleted(holdClosed(holdOpened(d, { token: 't', kind: 'gate', seconds: instruction.seconds }, now), 0, now), now);
    case 'unhold':
      return holdClosed(d, 0, now);
    case 'judge':
      return judged(d, { stepIndex: d.stepIndex, run: d.run.analysisRuns, at: now.toISOString(), score: 100, classification: 'Pass', reason: null }, { pass: true, reason: '' }, now);
    case 'promote':
    case 'rollback':
      return finished(d, {}, now);
    case 'release':
      return released(d, now);
    case 'done':
      return d;
  }
}
