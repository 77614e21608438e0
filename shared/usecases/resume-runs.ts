/**
 * The sweeper: every unfinished run is driven to its end without a client doing anything. It walks
 * the active-run marks (ports/active-runs.ts) and, for each deployment whose execution is not
 * running, starts one from the stored state. Safe because the lifecycle is a pure `decideNext` of
 * the stored deployment and every task is version-guarded: a run started again redoes nothing that
 * landed, and finishes what did not (a hold left open is closed, counting the time that passed).
 *
 * - execution never started (a creation died before its start): started under its own name, which
 *   is idempotent with a creation still under way; a creation younger than `graceMs` is left to its
 *   creator;
 * - execution ended but the deployment is unfinished (its process died with it locally; in AWS an
 *   execution failed, was stopped, or its continuation was lost): the successor is recorded on the
 *   deployment (a conditional write, so two sweepers start one run), then started;
 * - a mark without a deployment older than `graceMs` (a creation that died before writing it, or
 *   was refused) and the mark of a released deployment are removed (the release's audit event
 *   appended first: a process that died between the release and its event leaves it to nobody else);
 * - then the concurrency caps' slots (usecases/cap-slots.ts): a released run's, and those whose
 *   holder is no deployment and claimed more than `graceMs` ago, are freed.
 *
 * Runs locally when `npm start` starts and then on a schedule, and in the cloud with the scheduled
 * reconciliation. One deployment's failure is reported and does not stop the others.
 */
import { executionOf, successorExecution, type Deployment } from '../domain/deployment.js';
import { CrossfadeError, VersionConflictError } from '../domain/errors.js';
import { executionMoved } from '../domain/lifecycle.js';
import type { ActiveRun } from '../ports/active-runs.js';
import type { UseCaseDeps } from './deps.js';
import { pruneCapSlots, type PrunedSlot } from './cap-slots.js';
import { ensureLastEvent, writeWithEvent } from './record-change.js';

export type ResumeDeps = Pick<UseCaseDeps, 'activeRuns' | 'slots' | 'deployments' | 'audit' | 'workflow' | 'clock' | 'logger' | 'crashPoints' | 'notifier'>;

export type ResumeAction =
  | { deploymentId: string; action: 'running' | 'left-to-creator' }
  | { deploymentId: string; action: 'started' | 'restarted'; execution: string; previous?: string }
  | { deploymentId: string; action: 'mark-removed'; reason: string }
  | { deploymentId: string; action: 'failed'; reason: string };

export interface ResumeReport {
  at: string;
  runs: ResumeAction[];
  /** The cap slots freed (a sweep that could not read them says so in the log, and frees them next time). */
  slots: PrunedSlot[];
  summary: { marked: number; running: number; started: number; restarted: number; removed: number; failed: number; slotsFreed: number };
}

/** A creation gets this long to start its own run before the sweeper does it (and to write its deployment before its mark is taken for an orphan). */
export const DEFAULT_RESUME_GRACE_MS = 60_000;

export async function resumeRuns(deps: ResumeDeps, options: { graceMs?: number } = {}): Promise<ResumeReport> {
  const graceMs = options.graceMs ?? DEFAULT_RESUME_GRACE_MS;
  const now = deps.clock.now();
  const runs: ResumeAction[] = [];
  for (const mark of await deps.activeRuns.list()) {
    try {
      runs.push(await resumeOne(deps, mark, now, graceMs));
    } catch (error) {
      if (!(error instanceof CrossfadeError)) deps.logger.error('resuming a run failed', { deploymentId: mark.deploymentId, error });
      runs.push({ deploymentId: mark.deploymentId, action: 'failed', reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  }
  const slots = await pruneSlots(deps, now, graceMs);
  const count = (action: ResumeAction['action']) => runs.filter((r) => r.action === action).length;
  const report: ResumeReport = {
    at: now.toISOString(),
    runs,
    slots,
    summary: { marked: runs.length, running: count('running'), started: count('started'), restarted: count('restarted'), removed: count('mark-removed'), failed: count('failed'), slotsFreed: slots.length },
  };
  if (report.summary.started + report.summary.restarted + report.summary.removed + report.summary.failed + report.summary.slotsFreed > 0) deps.logger.info('runs resumed', report.summary);
  return report;
}

/** One failure here is reported and leaves the runs' report whole. */
async function pruneSlots(deps: ResumeDeps, now: Date, graceMs: number): Promise<PrunedSlot[]> {
  try {
    return await pruneCapSlots(deps, now, graceMs);
  } catch (error) {
    deps.logger.error('freeing cap slots failed', { error });
    return [];
  }
}

async function resumeOne(deps: ResumeDeps, mark: ActiveRun, now: Date, graceMs: number): Promise<ResumeAction> {
  const { deploymentId } = mark;
  const young = now.getTime() - Date.parse(mark.markedAt) < graceMs;
  const d = await deps.deployments.get(deploymentId);
  if (!d) {
    if (young) return { deploymentId, action: 'left-to-creator' };
    // Only the mark judged here: a retried creation that marked again since writes its deployment next.
    await deps.activeRuns.unmark(deploymentId, mark.markedAt);
    return { deploymentId, action: 'mark-removed', reason: 'no such deployment: its creation died or was refused before writing it' };
  }
  if (d.run.released) {
    // No run will read it again: the release's event, if its writer died before appending it, is appended here.
    await ensureLastEvent(deps, d);
    await deps.activeRuns.unmark(deploymentId);
    return { deploymentId, action: 'mark-removed', reason: 'its run is over' };
  }
  const execution = executionOf(d);
  const state = await deps.workflow.executionState(execution);
  if (state === 'running') return { deploymentId, action: 'running' };
  if (state === 'absent') {
    // Never started, or started by a process that died (locally executions live in the process).
    if (young && d.version === 1) return { deploymentId, action: 'left-to-creator' };
    await deps.workflow.start(d.id, execution);
    deps.logger.info('run started by the sweeper', { deploymentId, execution, phase: d.phase });
    return { deploymentId, action: 'started', execution };
  }
  const successor = await recordSuccessor(deps, d, execution);
  await deps.workflow.start(d.id, successor);
  deps.logger.info('run restarted by the sweeper', { deploymentId, execution: successor, previous: execution, phase: d.phase });
  return { deploymentId, action: 'restarted', execution: successor, previous: execution };
}

/** Records the successor of an ended execution; a sweeper that lost the race starts the one the winner recorded. */
async function recordSuccessor(deps: ResumeDeps, d: Deployment, ended: string): Promise<string> {
  const successor = successorExecution(d.id, ended);
  try {
    await writeWithEvent(deps, d, executionMoved(d, successor, deps.clock.now()), {
      verb: 'resume',
      actor: 'crossfade-sweeper',
      reason: `execution ${ended} ended before the deployment did`,
      details: { phase: d.phase, stepIndex: d.stepIndex, execution: successor, previous: ended },
    });
    return successor;
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
    const fresh = await deps.deployments.get(d.id);
    return fresh ? executionOf(fresh) : successor;
  }
}
