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
 * Because the whole state is in the deployment, any execution can drive it: a run whose process
 * died is started again from its stored state (usecases/resume-runs.ts), and a run nearing Step
 * Functions' history limit continues as a new execution.
 *
 * Time passes in holds: a pause or an analysis interval is one hold (a task token whose timeout is
 * the time to wait), a manual gate or an operator's pause is one hold re-armed every
 * GATE_HOLD_SECONDS. A request wakes the hold at once; the run then closes it, counting the time
 * it lasted (`waitedSeconds`), and decides again.
 */
import { isFinished, revise, type Deployment, type Hold, type JudgmentSummary, type Outcome, type Phase, type PolicyHold, type Step, type Weights } from './deployment.js';
import { ConflictError } from './errors.js';

export type Instruction =
  | { kind: 'prepare'; atVersion: number }
  | { kind: 'shift'; atVersion: number; stepIndex: number }
  | { kind: 'converge'; atVersion: number; stepIndex: number }
  /** Hold for `seconds` (a pause, or until the next judgment is due). */
  | { kind: 'wait'; atVersion: number; stepIndex: number; seconds: number }
  /** Hold until promoted, resumed or canceled; re-armed after `seconds`. */
  | { kind: 'gate'; atVersion: number; stepIndex: number; seconds: number }
  /** A hold is open: close it (it was woken, timed out, or its execution died) and decide again. */
  | { kind: 'unhold'; atVersion: number }
  | { kind: 'judge'; atVersion: number; stepIndex: number; run: number }
  | { kind: 'promote'; atVersion: number }
  | { kind: 'rollback'; atVersion: number; reason: string }
  | { kind: 'release'; atVersion: number }
  | { kind: 'done'; atVersion: number };

export type InstructionKind = Instruction['kind'];

/** How long one hold of a manual gate lasts before it is re-armed: a gate waits for as long as it takes. */
export const GATE_HOLD_SECONDS = 7 * 24 * 3600;

export function decideNext(d: Deployment): Instruction {
  const atVersion = d.version;
  const { run } = d;
  if (run.released) return { kind: 'done', atVersion };
  if (isFinished(d.phase)) return { kind: 'release', atVersion };
  if (d.phase === 'PENDING') return { kind: 'prepare', atVersion };
  if (run.hold !== null) return { kind: 'unhold', atVersion };
  if (run.outcome?.kind === 'rollback') return { kind: 'rollback', atVersion, reason: run.outcome.reason };
  // Held by policy: wait, then try the step (or the promotion) again; a promotion asked meanwhile waits too.
  if (run.policyHold) return { kind: 'wait', atVersion, stepIndex: d.stepIndex, seconds: holdSeconds(run.policyHold.seconds) };
  if (run.outcome?.kind === 'promote' || d.stepIndex >= d.steps.length) return { kind: 'promote', atVersion };
  const stepIndex = d.stepIndex;
  if (run.paused) return { kind: 'gate', atVersion, stepIndex, seconds: GATE_HOLD_SECONDS };
  const step = d.steps[stepIndex] as Step;
  switch (step.kind) {
    case 'setWeight':
      return run.shifted ? { kind: 'converge', atVersion, stepIndex } : { kind: 'shift', atVersion, stepIndex };
    case 'pause':
      if (step.durationSeconds === null) return { kind: 'gate', atVersion, stepIndex, seconds: GATE_HOLD_SECONDS };
      return { kind: 'wait', atVersion, stepIndex, seconds: holdSeconds(step.durationSeconds - run.waitedSeconds) };
    case 'analysis': {
      const dueAfterSeconds = (run.analysisRuns + run.analysisDeferrals + 1) * step.intervalSeconds;
      if (run.waitedSeconds < dueAfterSeconds) return { kind: 'wait', atVersion, stepIndex, seconds: holdSeconds(dueAfterSeconds - run.waitedSeconds) };
      return { kind: 'judge', atVersion, stepIndex, run: run.analysisRuns };
    }
  }
}

/** A hold lasts whole seconds, at least one (Step Functions' TimeoutSecondsPath takes positive integers). */
function holdSeconds(remainingSeconds: number): number {
  return Math.max(1, Math.ceil(remainingSeconds));
}

/** Whether `expected` is still what should happen to `d`: a task acts only then. */
export function isCurrent(expected: Instruction, d: Deployment): boolean {
  const now = decideNext(d);
  return now.kind === expected.kind && now.atVersion === expected.atVersion;
}

/** The phase a step puts the deployment in while it runs. */
export function phaseOfStep(d: Pick<Deployment, 'steps'>, stepIndex: number): Phase {
  const step = d.steps[stepIndex];
  if (!step) return 'PROMOTING';
  return step.kind === 'setWeight' ? 'SHIFTING' : step.kind === 'pause' ? 'PAUSED' : 'ANALYZING';
}

/**
 * The hold a request that produced `d` must wake, or null: the run waits in a hold stored before
 * `d`'s version, and with the hold closed it would no longer hold the same way at the same step (a
 * cancel, a promote, a pause during a timed pause; not a pause at a manual gate). A repeated
 * request wakes it again: the first wake may have been lost.
 */
export function holdToWake(d: Deployment): Hold | null {
  const hold = d.run.hold;
  if (hold === null || hold.version === d.version) return null;
  const decision = decideNext({ ...d, run: { ...d.run, hold: null } });
  const unchanged = decision.kind === hold.kind && decision.stepIndex === hold.stepIndex && decision.stepIndex === d.stepIndex;
  return unchanged ? null : hold;
}

// ---- transitions made by the state machine's tasks ----

export function prepared(d: Deployment, change: { baseline: string; weights: Weights; fencingToken: number }, now: Date): Deployment {
  return revise(
    d,
    { baseline: { version: change.baseline }, weights: change.weights, phase: phaseOfStep(d, 0), run: { ...d.run, stepStartedAt: now.toISOString(), fencingToken: change.fencingToken } },
    now,
  );
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
      // An open hold stays until the run closes it: whoever passed the gate may still have to wake it.
      run: { ...d.run, stepStartedAt: now.toISOString(), waitedSeconds: 0, analysisRuns: 0, analysisDeferrals: 0, shifted: false },
    },
    now,
  );
}

/** The groups a traffic step could not verify, recorded with the write that completes it. */
export function withUnverified(d: Deployment, groups: readonly string[]): Deployment {
  return { ...d, run: { ...d.run, unverified: [...groups] } };
}

/** The run waits in a hold from now: its token is what requests send to wake it. */
export function holdOpened(d: Deployment, hold: { token: string; kind: Hold['kind']; seconds: number }, now: Date): Deployment {
  return revise(d, { run: { ...d.run, hold: { ...hold, stepIndex: d.stepIndex, since: now.toISOString(), version: d.version + 1 } } }, now);
}

/**
 * The seconds a hold counts for its step: all of them when it timed out; otherwise the time it
 * lasted (it was woken early, or its execution died and a new one closes it), at most its length.
 */
export function heldSeconds(hold: Hold, timedOut: boolean, now: Date): number {
  if (timedOut) return hold.seconds;
  const elapsed = Math.floor((now.getTime() - Date.parse(hold.since)) / 1000);
  return Math.min(hold.seconds, Math.max(0, elapsed));
}

/**
 * Closes the open hold, counting `seconds` for the step it was opened in; a pause that has lasted its
 * duration is done. A policy hold ends with it (the step is tried again, and the rules asked again),
 * and its time counts for nothing.
 */
export function holdClosed(d: Deployment, seconds: number, now: Date): Deployment {
  const hold = d.run.hold;
  const policyHeld = Boolean(d.run.policyHold);
  const counts = hold !== null && hold.kind === 'wait' && hold.stepIndex === d.stepIndex && !policyHeld;
  const phase = d.phase === 'HELD' ? (d.run.outcome?.kind === 'promote' ? 'PROMOTING' : phaseOfStep(d, d.stepIndex)) : d.phase;
  const next = revise(d, { phase, run: { ...d.run, hold: null, policyHold: null, waitedSeconds: d.run.waitedSeconds + (counts ? seconds : 0) } }, now);
  const step = d.steps[d.stepIndex];
  if (counts && !d.run.outcome && step?.kind === 'pause' && step.durationSeconds !== null && next.run.waitedSeconds >= step.durationSeconds) return stepCompleted(next, now);
  return next;
}

/**
 * The rules refuse the next traffic step (or the promotion) now: the run is HELD and waits
 * `hold.seconds` before trying again. Never a rollback: a calendar is no reason to undo a canary.
 */
export function policyHeld(d: Deployment, hold: Omit<PolicyHold, 'since'>, now: Date): Deployment {
  return revise(d, { phase: 'HELD', run: { ...d.run, policyHold: { ...hold, since: now.toISOString() } } }, now);
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

/** The run goes on in another Step Functions execution (a continuation, or a restart of a dead one). */
export function executionMoved(d: Deployment, execution: string, now: Date): Deployment {
  return revise(d, { run: { ...d.run, execution } }, now);
}

/** Decides a rollback (a failed task, a refused step); an outcome already decided is kept. */
export function rollbackDecided(d: Deployment, reason: string, finalPhase: Extract<Outcome, { kind: 'rollback' }>['finalPhase'], now: Date, requestedBy?: string): Deployment {
  if (d.run.outcome?.kind === 'rollback' || isFinished(d.phase)) return d;
  return revise(d, { phase: 'ROLLING_BACK', run: { ...d.run, outcome: { kind: 'rollback', reason, finalPhase, ...(requestedBy ? { requestedBy } : {}) } } }, now);
}

export function finished(d: Deployment, weights: Weights, now: Date): Deployment {
  const outcome: Outcome = d.run.outcome ?? { kind: 'promote', reason: `every step passed: ${d.canary.version} serves 100%` };
  const phase: Phase = outcome.kind === 'promote' ? 'SUCCEEDED' : outcome.finalPhase;
  const result = {
    outcome: outcome.kind === 'promote' ? 'promoted' : phase === 'CANCELED' ? 'canceled' : 'rolled back',
    reason: outcome.reason,
    ...(outcome.requestedBy ? { requestedBy: outcome.requestedBy } : {}),
    weights,
    judgments: d.run.judgments,
    ...(d.run.unverified.length > 0 ? { unverified: d.run.unverified } : {}),
  };
  return revise(d, { phase, weights, result, run: { ...d.run, outcome, hold: null } }, now);
}

export function released(d: Deployment, now: Date): Deployment {
  return revise(d, { run: { ...d.run, released: true } }, now);
}

// ---- operators' requests (docs/api.md: cancel, rollback, promote, pause, resume) ----

/** What a request changed. `changed: false`: nothing to write (a repeated or late request). */
export interface RequestOutcome {
  deployment: Deployment;
  changed: boolean;
}

const unchanged = (deployment: Deployment): RequestOutcome => ({ deployment, changed: false });

/** Who asked, and why: "canceled by alice: bad latency". */
function byWhom(verb: string, actor: string, reason: string | null): string {
  return `${verb} by ${actor}${reason ? `: ${reason}` : ''}`;
}

/** Idempotent and tolerant: a second cancel, or a cancel of a finished deployment, changes nothing. */
export function cancelRequested(d: Deployment, actor: string, reason: string | null, now: Date): RequestOutcome {
  const next = rollbackDecided(d, byWhom('canceled', actor, reason), 'CANCELED', now, actor);
  return next === d ? unchanged(d) : { deployment: next, changed: true };
}

export function rollbackRequested(d: Deployment, actor: string, reason: string | null, now: Date): RequestOutcome {
  refuseWhenDecided(d, 'rollback');
  const next = rollbackDecided(d, byWhom('rolled back', actor, reason), 'ROLLED_BACK', now, actor);
  return next === d ? unchanged(d) : { deployment: next, changed: true };
}

/**
 * Continue past the current pause (timed or a manual gate), or with `full` skip every remaining
 * step to 100%. Refused (409) once the end is decided, and (without `full`) outside a pause step.
 */
export function promoteRequested(d: Deployment, full: boolean, actor: string, reason: string | null, now: Date): RequestOutcome {
  refuseWhenDecided(d, 'promote');
  if (full) {
    if (d.run.outcome?.kind === 'promote') return unchanged(d);
    const outcome: Outcome = { kind: 'promote', reason: byWhom('promoted in full', actor, reason), requestedBy: actor };
    // A run held by policy stays HELD: the promotion moves traffic, and waits for the rules like any step.
    return { deployment: revise(d, { phase: d.phase === 'PENDING' || d.phase === 'HELD' ? d.phase : 'PROMOTING', run: { ...d.run, paused: false, outcome } }, now), changed: true };
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
