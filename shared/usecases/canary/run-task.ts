/**
 * One task of the canary state machine (shared/workflow/canary.asl.json): read the deployment,
 * act only if the instruction the task carries is still current (lifecycle.ts), write the result
 * conditionally, record it in the audit log, and hand back the next instruction.
 *
 * Errors are thrown, never turned into outputs: Step Functions retries or catches on their `name`
 * (NotConvergedError, DependencyUnavailableError, VersionConflictError are retried; anything else
 * is caught and ends in a rollback).
 */
import { decideNext, isCurrent, type Instruction, type InstructionKind } from '../../domain/lifecycle.js';
import { executionOf, type Deployment } from '../../domain/deployment.js';
import { CrossfadeError, InternalError, NotFoundError } from '../../domain/errors.js';
import type { CanaryDeps } from './deps.js';
import { ensureLastEvent, writeWithEvent } from '../record-change.js';
import { releaseCapSlots } from '../cap-slots.js';
import { judge } from './judge.js';
import { giveUp, promote, recover, release, rollback } from './finish.js';
import { prepare } from './prepare.js';
import { converge, hold, shift, unhold } from './steps.js';
import { continueAs } from './continue.js';

export const TASK_ACTIONS = ['decide', 'prepare', 'shift', 'converge', 'hold', 'unhold', 'judge', 'promote', 'rollback', 'release', 'recover', 'give-up', 'continue'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

/** What the state machine passes (the Task state's Parameters). */
export interface TaskInput {
  action: TaskAction;
  deploymentId: string;
  /** The instruction that led here; absent on the first Decide. */
  expect?: Instruction | undefined;
  /** Hold only: the Step Functions task token to store. */
  token?: string | undefined;
  /** Unhold only: the hold ended on its own timeout (not woken). */
  timedOut?: boolean | undefined;
  /** Recover and give-up only: the error Step Functions caught (`Error`, `Cause`). */
  error?: { Error?: string | undefined; Cause?: string | undefined } | undefined;
  /** Tasks run so far by this execution (canary.asl.json continues as a new execution past a bound). */
  loop?: number | undefined;
  /** Continue only: the name of the execution that asks to be continued. */
  execution?: string | undefined;
}

export interface TaskOutput {
  deploymentId: string;
  next: Instruction;
  loop: number;
  /** Continue only: the execution to start, which takes over the run. */
  successor?: string;
}

/**
 * The work of one action: returns the deployment as it should be stored (the same object when
 * nothing changed), or that and what the audit event should say besides (a judgment's inputs, the policy's verdicts).
 */
export type ActionWork = (deps: CanaryDeps, d: Deployment, input: TaskInput) => Promise<Deployment | WorkDone>;

/** What an action did, when the audit event needs more than the deployment: details besides, or another verb (`held`: the rules held the step). */
export interface WorkDone {
  deployment: Deployment;
  auditDetails: Record<string, unknown>;
  verb?: string;
}

/** Which instructions each guarded action carries out (unguarded ones act on the stored state alone). */
const instructionsOf: Partial<Record<TaskAction, readonly InstructionKind[]>> = {
  prepare: ['prepare'],
  shift: ['shift'],
  converge: ['converge'],
  hold: ['wait', 'gate'],
  judge: ['judge'],
  promote: ['promote'],
  rollback: ['rollback'],
  release: ['release'],
};

const work: Record<Exclude<TaskAction, 'decide'>, ActionWork> = {
  prepare,
  shift,
  converge,
  hold,
  unhold,
  judge,
  promote,
  rollback,
  release,
  recover,
  'give-up': giveUp,
  continue: continueAs,
};

export async function runCanaryTask(deps: CanaryDeps, input: TaskInput): Promise<TaskOutput> {
  const d = await deps.deployments.get(input.deploymentId);
  if (!d) throw new NotFoundError(`deployment ${input.deploymentId} does not exist`);
  if (input.action === 'decide') {
    // A run started again (a restart, a continuation) first records what the last writer may not have.
    await ensureLastEvent(deps, d);
    return output(d, input);
  }

  const kinds = instructionsOf[input.action];
  if (kinds !== undefined) {
    if (input.expect === undefined || !kinds.includes(input.expect.kind)) throw new InternalError(`task ${input.action} was given instruction ${input.expect?.kind ?? 'none'}: the state machine's routing is wrong`);
    if (!isCurrent(input.expect, d)) {
      // A retry whose work already landed, a duplicate, or an operator's request changed the plan: do nothing.
      deps.logger.info('canary task skipped: instruction no longer current', { deploymentId: d.id, action: input.action, expected: input.expect, version: d.version });
      // A hold that is not opened must not keep its execution waiting.
      if (input.action === 'hold' && input.token !== undefined) await deps.workflow.wake(input.token);
      await ensureLastEvent(deps, d);
      return output(d, input);
    }
  }

  deps.crashPoints?.reached(`task:${input.action}:start:step${d.stepIndex}`);
  let done;
  try {
    done = await work[input.action](deps, d, input);
  } catch (error) {
    await noteRetry(deps, d, input, error);
    throw error;
  }
  const { deployment: changed, auditDetails, verb = input.action } = 'deployment' in done ? done : { deployment: done, auditDetails: {} };
  if (changed === d) return output(d, input);
  deps.crashPoints?.reached(`task:${input.action}:before-write:step${d.stepIndex}`);
  const next = await writeWithEvent(deps, d, changed, {
    verb,
    actor: 'crossfade-canary',
    reason: changed.run.outcome?.reason ?? (verb === 'held' ? (changed.run.policyHold?.reason ?? null) : null),
    details: { phase: changed.phase, stepIndex: changed.stepIndex, weights: changed.weights, ...describeChange(changed, input, verb) },
    extraDetails: auditDetails,
  });
  // The run is over: its cap slots are free, and the sweeper has nothing left to drive (a crash
  // before this leaves both to the sweeper, which frees the slots of a released run and removes its mark).
  if (next.run.released) {
    await releaseCapSlots(deps, next.id);
    await deps.activeRuns.unmark(next.id);
  }
  deps.crashPoints?.reached(`task:${input.action}:done:step${d.stepIndex}`);
  deps.logger.info('canary task done', { deploymentId: d.id, action: input.action, phase: next.phase, step: next.stepIndex, version: next.version });
  return output(next, input);
}

/** What the audit event says besides phase, step and weights. */
function describeChange(changed: Deployment, input: TaskInput, verb: string): Record<string, unknown> {
  const held = verb === 'held' ? changed.run.policyHold : null;
  return {
    ...(held ? { held: { rules: held.rules, reason: held.reason, until: held.until, recheckInSeconds: held.seconds } } : {}),
    ...(input.error ? { error: input.error } : {}),
    ...(changed.run.unverified.length > 0 && ['converge', 'promote', 'rollback'].includes(input.action) ? { unverified: changed.run.unverified } : {}),
    ...(input.action === 'hold' && changed.run.hold ? { hold: { kind: changed.run.hold.kind, seconds: changed.run.hold.seconds, until: new Date(Date.parse(changed.run.hold.since) + changed.run.hold.seconds * 1000).toISOString() } } : {}),
    ...(input.action === 'unhold' ? { waitedSeconds: changed.run.waitedSeconds, timedOut: input.timedOut === true } : {}),
    ...(input.action === 'continue' ? { execution: changed.run.execution } : {}),
  };
}

/**
 * A task that failed with an error the state machine retries is noted on the deployment (without
 * a new version, which would make the retry stale), so progress says what is being retried.
 */
async function noteRetry(deps: CanaryDeps, d: Deployment, input: TaskInput, error: unknown): Promise<void> {
  if (!(error instanceof CrossfadeError) || !error.retryable) return;
  const previous = d.retrying?.action === input.action && d.retrying.atVersion === d.version ? d.retrying.attempt : 1;
  try {
    await deps.deployments.noteRetry(d.id, {
      action: input.action,
      atVersion: d.version,
      attempt: previous + 1,
      maxAttempts: deps.retryBudget?.(input.action, error.name) ?? null,
      reason: error.message,
      at: deps.clock.now().toISOString(),
    });
  } catch (noteError) {
    // Progress only: the retry itself must not fail because of it.
    deps.logger.warn('could not note a retry', { deploymentId: d.id, error: noteError instanceof Error ? noteError.message : String(noteError) });
  }
}

function output(d: Deployment, input: TaskInput): TaskOutput {
  return {
    deploymentId: d.id,
    next: decideNext(d),
    loop: (input.loop ?? 0) + 1,
    ...(input.action === 'continue' ? { successor: executionOf(d) } : {}),
  };
}
