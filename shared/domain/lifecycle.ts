/**
 * The whole lifecycle logic of a canary, as pure functions: what the state machine does next
 * (`decideNext`), and how each finished piece of work changes the deployment.
 *
 * The state machine (shared/workflow/) is a loop around `decideNext`: every task reads the
 * deployment, checks that the instruction it was given is still the one `decideNext` gives
 * (same kind, same `atVersion`), does its work, writes the deployment conditionally, and hands
 * back the next instruction. A retried task whose write landed finds the version moved on and
 * does nothing; one that crashed before writing finds the same instruction and does the same
 * (idempotent) work again. A step is therefore never skipped and never applied twice, and an
 * operator's request (a new version of the deployment) reaches the run at its next task.
 *
 * Waits are counted, not timed: the state machine's Wait states are the timer (Step Functions
 * owns timers), and each finished Wait adds its seconds to `run.waitedSeconds`. A long wait is
 * cut into chunks of at most `waitChunkSeconds` so a cancel or pause is seen within one chunk.
 */
import { isFinished, revise, type Deployment, type JudgmentSummary, type Outcome, type Phase, type Step, type Weights } from './deployment.js';
import { ConflictError } from './errors.js';

export type Instruction =
  | { kind: 'prepare'; atVersion: number }
  | { kind: 'shift'; atVersion: number; stepIndex: number }
  | { kind: 'converge'; atVersion: number; stepIndex: number }
  | { kind: 'wait'; atVersion: number; stepIndex: number; seconds: number }
  | { kind: 'gate'; atVersion: number; stepIndex: number }
  | { kind: 'judge'; atVersion: number; stepIndex: number; run: number }
  | { kind: 'promote'; atVersion: number }
  | { kind: 'rollback'; atVersion: number; reason: string }
  | { kind: 'release'; atVersion: number }
  | { kind: 'done'; atVersion: number };

export type InstructionKind = Instruction['kind'];

export interface LifecycleSettings {
  /** The longest single Wait: how late a cancel or pause can be noticed during a pause or an analysis interval. */
  waitChunkSeconds: number;
}

export const DEFAULT_WAIT_CHUNK_SECONDS = 10;

export function decideNext(d: Deployment, settings: LifecycleSettings): Instruction {
  const atVersion = d.version;
  const { run } = d;
  if (run.released) return { kind: 'done', atVersion };
  if (isFinished(d.phase)) return { kind: 'release', atVersion };
  if (d.phase === 'PENDING') return { kind: 'prepare', atVersion };
  if (run.outcome?.kind === 'rollback') return { kind: 'rollback', atVersion, reason: run.outcome.reason };
  if (run.outcome?.kind === 'promote' || d.stepIndex >= d.steps.length) return { kind: 'promote', atVersion };
  const stepIndex = d.stepIndex;
  if (run.paused) return { kind: 'gate', atVersion, stepIndex };
  const step = d.steps[stepIndex] as Step;
  switch (step.kind) {
    case 'setWeight':
      return run.shifted ? { kind: 'converge', atVersion, stepIndex } : { kind: 'shift', atVersion, stepIndex };
    case 'pause':
      if (step.durationSeconds === null) return { kind: 'gate', atVersion, stepIndex };
      return { kind: 'wait', atVersion, stepIndex, seconds: chunk(step.durationSeconds - run.waitedSeconds, settings) };
    case 'analysis': {
      const dueAfterSeconds = (run.analysisRuns + run.analysisDeferrals + 1) * step.intervalSeconds;
      if (run.waitedSeconds < dueAfterSeconds) return { kind: 'wait', atVersion, stepIndex, seconds: chunk(dueAfterSeconds - run.waitedSeconds, settings) };
      return { kind: 'judge', atVersion, stepIndex, run: run.analysisRuns };
    }
  }
}

function chunk(remainingSeconds: number, settings: LifecycleSettings): number {
  return Math.max(0, Math.min(remainingSeconds, settings.waitChunkSeconds));
}

/** Whether `expected` is still what should happen to `d`: a task acts only then. */
export function isCurrent(expected: Instruction, d: Deployment, settings: LifecycleSettings): boolean {
  const now = decideNext(d, settings);
  return now.kind === expected.kind && now.atVersion === expected.atVersion;
}

/** The phase a step puts the deployment in while it runs. */
export function phaseOfStep(d: Pick<Deployment, 'steps'>, stepIndex: number): Phase {
  const step = d.steps[stepIndex];
  if (!step) return 'PROMOTING';
  return step.kind === 'setWeight' ? 'SHIFTING' : step.kind === 'pause' ? 'PAUSED' : 'ANALYZING';
}

// ---- transitions made by the state machine's tasks ----

export function prepared(d: Deployment, change: { baseline: string; weights: Weights }, now: Date): Deployment {
  return revise(d, { baseline: { version: change.baseline }, weights: change.weights, phase: phaseOfStep(d, 0), run: { ...d.run, stepStartedAt: now.toISOString() } }, now);
}

export function shifted(d: Deployment, weights: Weights, now: Date): Deployment {
  return revise(d, { weights, phase: 'CONVERGING', run: { ...d.run, shifted: true } }, now);
}

/** The current step is done: the next one starts now. */
export function stepCompleted(d: Deployment, now: Date): Deployment {
  const stepIndex = d.stepIndex + 1;
  return revise(
    d,
    {
      stepIndex,
      phase: d.run.outcome ? d.phase : phaseOfStep(d, stepIndex),
      // The gate's token stays until the run moves on: whoever passed the gate may still have to wake it.
      run: { ...d.run, stepStartedAt: now.toISOString(), waitedSeconds: 0, analysisRuns: 0, analysisDeferrals: 0, shifted: false },
    },
    now,
  );
}

export function waited(d: Deployment, seconds: number, now: Date): Deployment {
  const next = revise(d, { run: { ...d.run, waitedSeconds: d.run.waitedSeconds + seconds } }, now);
  const step = d.steps[d.stepIndex];
  if (step?.kind === 'pause' && step.durationSeconds !== null && next.run.waitedSeconds >= step.durationSeconds) return stepCompleted(next, now);
  return next;
}

/** Records a judgment; a failing one decides a rollback, the last passing one completes the step. */
export function judged(d: Deployment, judgment: JudgmentSummary, verdict: { pass: boolean; reason: string }, now: Date): Deployment {
  const run = { ...d.run, analysisRuns: d.run.analysisRuns + 1, judgments: [...d.run.judgments, judgment] };
  if (!verdict.pass) return revise(d, { phase: 'ROLLING_BACK', run: { ...run, outcome: { kind: 'rollback', reason: verdict.reason, finalPhase: 'ROLLED_BACK' } } }, now);
  const next = revise(d, { run }, now);
  const step = d.steps[d.stepIndex];
  return step?.kind === 'analysis' && run.analysisRuns >= step.count ? stepCompleted(next, now) : next;
}

/** A judgment put off by one interval: metrics whose policy is `wait` had no data yet. */
export function judgmentDeferred(d: Deployment, now: Date): Deployment {
  return revise(d, { run: { ...d.run, analysisDeferrals: d.run.analysisDeferrals + 1 } }, now);
}

export function gateOpened(d: Deployment, token: string, now: Date): Deployment {
  return revise(d, { run: { ...d.run, gateToken: token } }, now);
}

/** Decides a rollback (a failed task, a refused step); an outcome already decided is kept. */
export function rollbackDecided(d: Deployment, reason: string, finalPhase: Extract<Outcome, { kind: 'rollback' }>['finalPhase'], now: Date): Deployment {
  if (d.run.outcome?.kind === 'rollback' || isFinished(d.phase)) return d;
  return revise(d, { phase: 'ROLLING_BACK', run: { ...d.run, outcome: { kind: 'rollback', reason, finalPhase } } }, now);
}

export function finished(d: Deployment, weights: Weights, now: Date): Deployment {
  const outcome: Outcome = d.run.outcome ?? { kind: 'promote', reason: `every step passed: ${d.canary.version} serves 100%` };
  const phase: Phase = outcome.kind === 'promote' ? 'SUCCEEDED' : outcome.finalPhase;
  const result = {
    outcome: outcome.kind === 'promote' ? 'promoted' : phase === 'CANCELED' ? 'canceled' : 'rolled back',
    reason: outcome.reason,
    weights,
    judgments: d.run.judgments,
  };
  return revise(d, { phase, weights, result, run: { ...d.run, outcome, gateToken: null } }, now);
}

export function released(d: Deployment, now: Date): Deployment {
  return revise(d, { run: { ...d.run, released: true } }, now);
}

// ---- operators' requests (API.md: cancel, rollback, promote, pause, resume) ----

/** What a request changed. `changed: false`: nothing to write (a repeated or late request). */
export interface RequestOutcome {
  deployment: Deployment;
  changed: boolean;
}

const unchanged = (deployment: Deployment): RequestOutcome => ({ deployment, changed: false });

/** Idempotent and tolerant: a second cancel, or a cancel of a finished deployment, changes nothing. */
export function cancelRequested(d: Deployment, actor: string, now: Date): RequestOutcome {
  const next = rollbackDecided(d, `canceled by ${actor}`, 'CANCELED', now);
  return next === d ? unchanged(d) : { deployment: next, changed: true };
}

export function rollbackRequested(d: Deployment, actor: string, now: Date): RequestOutcome {
  refuseWhenDecided(d, 'rollback');
  const next = rollbackDecided(d, `rolled back by ${actor}`, 'ROLLED_BACK', now);
  return next === d ? unchanged(d) : { deployment: next, changed: true };
}

/**
 * Continue past the current pause (timed or a manual gate), or with `full` skip every remaining
 * step to 100%. Refused (409) once the end is decided, and (without `full`) outside a pause step.
 */
export function promoteRequested(d: Deployment, full: boolean, actor: string, now: Date): RequestOutcome {
  refuseWhenDecided(d, 'promote');
  if (full) {
    if (d.run.outcome?.kind === 'promote') return unchanged(d);
    return { deployment: revise(d, { phase: d.phase === 'PENDING' ? d.phase : 'PROMOTING', run: { ...d.run, paused: false, outcome: { kind: 'promote', reason: `promoted in full by ${actor}` } } }, now), changed: true };
  }
  const step = d.steps[d.stepIndex];
  if (d.phase === 'PENDING' || step?.kind !== 'pause') {
    throw new ConflictError(`deployment ${d.id} is not at a pause (step ${d.stepIndex + 1}/${d.steps.length} is ${step?.kind ?? 'the promotion'}); promote with {"full": true} to skip to 100%`);
  }
  return { deployment: stepCompleted(revise(d, { run: { ...d.run, paused: false } }, now), now), changed: true };
}

export function pauseRequested(d: Deployment, now: Date): RequestOutcome {
  refuseWhenDecided(d, 'pause');
  if (d.run.paused) return unchanged(d);
  return { deployment: revise(d, { run: { ...d.run, paused: true } }, now), changed: true };
}

/** Lifts an operator's pause, and passes a manual gate (a pause step without duration). */
export function resumeRequested(d: Deployment, now: Date): RequestOutcome {
  refuseWhenDecided(d, 'resume');
  const step = d.steps[d.stepIndex];
  const atManualGate = d.phase !== 'PENDING' && step?.kind === 'pause' && step.durationSeconds === null;
  if (!d.run.paused && !atManualGate) return unchanged(d);
  const lifted = revise(d, { run: { ...d.run, paused: false } }, now);
  return { deployment: atManualGate ? stepCompleted(lifted, now) : lifted, changed: true };
}

function refuseWhenDecided(d: Deployment, verb: string): void {
  if (isFinished(d.phase) || d.run.outcome?.kind === 'rollback') {
    throw new ConflictError(`cannot ${verb} deployment ${d.id}: it is ${d.run.outcome?.kind === 'rollback' && !isFinished(d.phase) ? 'rolling back' : d.phase.toLowerCase().replace('_', ' ')}`);
  }
}
