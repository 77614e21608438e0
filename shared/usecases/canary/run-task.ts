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
import type { Deployment } from '../../domain/deployment.js';
import { InternalError, NotFoundError } from '../../domain/errors.js';
import type { CanaryDeps } from './deps.js';
import { ensureLastEvent, writeWithEvent } from '../record-change.js';
import { judge } from './judge.js';
import { giveUp, promote, recover, release, rollback } from './finish.js';
import { prepare } from './prepare.js';
import { converge, gate, shift, waitedFor } from './steps.js';

export const TASK_ACTIONS = ['decide', 'prepare', 'shift', 'converge', 'waited', 'gate', 'judge', 'promote', 'rollback', 'release', 'recover', 'give-up'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

/** What the state machine passes (the Task state's Parameters). */
export interface TaskInput {
  action: TaskAction;
  deploymentId: string;
  /** The instruction that led here; absent on the first Decide. */
  expect?: Instruction | undefined;
  /** Gate only: the Step Functions task token to store. */
  token?: string | undefined;
  /** Recover and give-up only: the error Step Functions caught (`Error`, `Cause`). */
  error?: { Error?: string | undefined; Cause?: string | undefined } | undefined;
}

export interface TaskOutput {
  deploymentId: string;
  next: Instruction;
}

/**
 * The work of one action: returns the deployment as it should be stored (the same object when
 * nothing changed), or that and what the audit event should say besides (a judgment's inputs).
 */
export type ActionWork = (deps: CanaryDeps, d: Deployment, input: TaskInput) => Promise<Deployment | { deployment: Deployment; auditDetails: Record<string, unknown> }>;

/** Which instruction each guarded action carries out. */
const instructionOf: Partial<Record<TaskAction, InstructionKind>> = {
  prepare: 'prepare',
  shift: 'shift',
  converge: 'converge',
  waited: 'wait',
  gate: 'gate',
  judge: 'judge',
  promote: 'promote',
  rollback: 'rollback',
  release: 'release',
};

const work: Record<Exclude<TaskAction, 'decide'>, ActionWork> = {
  prepare,
  shift,
  converge,
  waited: waitedFor,
  gate,
  judge,
  promote,
  rollback,
  release,
  recover,
  'give-up': giveUp,
};

export async function runCanaryTask(deps: CanaryDeps, input: TaskInput): Promise<TaskOutput> {
  const d = await deps.deployments.get(input.deploymentId);
  if (!d) throw new NotFoundError(`deployment ${input.deploymentId} does not exist`);
  if (input.action === 'decide') return output(deps, d);

  const kind = instructionOf[input.action];
  if (kind !== undefined) {
    if (input.expect?.kind !== kind) throw new InternalError(`task ${input.action} was given instruction ${input.expect?.kind ?? 'none'}: the state machine's routing is wrong`);
    if (!isCurrent(input.expect, d, deps.settings)) {
      // A retry whose work already landed, a duplicate, or an operator's request changed the plan: do nothing.
      deps.logger.info('canary task skipped: instruction no longer current', { deploymentId: d.id, action: input.action, expected: input.expect, version: d.version });
      if (input.action === 'gate' && input.token !== undefined) await deps.workflow.wake(input.token);
      await ensureLastEvent(deps, d);
      return output(deps, d);
    }
  }

  const done = await work[input.action](deps, d, input);
  const [changed, auditDetails] = 'deployment' in done ? [done.deployment, done.auditDetails] : [done, {}];
  if (changed === d) return output(deps, d);
  const next = await writeWithEvent(deps, d, changed, {
    verb: input.action,
    actor: 'crossfade-canary',
    reason: changed.run.outcome?.reason ?? null,
    details: { phase: changed.phase, stepIndex: changed.stepIndex, weights: changed.weights, ...(input.error ? { error: input.error } : {}) },
    extraDetails: auditDetails,
  });
  deps.logger.info('canary task done', { deploymentId: d.id, action: input.action, phase: next.phase, step: next.stepIndex, version: next.version });
  return output(deps, next);
}

function output(deps: CanaryDeps, d: Deployment): TaskOutput {
  return { deploymentId: d.id, next: decideNext(d, deps.settings) };
}
