/**
 * The canary's lifecycle as pure functions (shared/domain/lifecycle.ts): what the state machine does
 * next in every situation (decideNext), how finished work changes the deployment (the transitions),
 * and what operators' requests do (cancel, rollback, promote, pause, resume). A property closes it:
 * whatever tasks and requests arrive, in whatever order, a deployment never goes back a step, never
 * runs past its plan, and never changes its final phase.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnalysisTemplate } from '../../../shared/domain/analysis.js';
import { initialRunState, isFinished, type Deployment, type Hold, type JudgmentSummary, type Phase, type RunState, type Step } from '../../../shared/domain/deployment.js';
import { ConflictError } from '../../../shared/domain/errors.js';
import {
  cancelRequested,
  decideNext,
  executionMoved,
  finished,
  GATE_HOLD_SECONDS,
  heldSeconds,
  holdClosed,
  holdOpened,
  holdToWake,
  isCurrent,
  judged,
  judgmentDeferred,
  pauseRequested,
  phaseOfStep,
  prepared,
  promoteRequested,
  released,
  resumeRequested,
  rollbackDecided,
  rollbackRequested,
  shifted,
  stepCompleted,
  withUnverified,
  type Instruction,
  type RequestOutcome,
} from '../../../shared/domain/lifecycle.js';
import { makeDeployment, T0 } from '../../support/deployments.js';

const NOW = new Date('2025-03-01T12:30:00.000Z');
const LATER = new Date('2025-03-01T12:31:00.000Z');

const TEMPLATE: AnalysisTemplate = {
  name: 'inline',
  stepSeconds: 10,
  thresholds: { pass: 95, marginal: 75 },
  groupWeights: {},
  metrics: [{ name: 'error-rate', group: 'errors', provider: 'prom', query: 'errors{version="{{version}}"}', direction: 'increase', critical: false, noData: 'fail', spreadCheck: false }],
};

/** One step of every kind: the indexes below name them. */
const STEPS: Step[] = [
  { kind: 'setWeight', canaryPercent: 10, wave: null },
  { kind: 'pause', durationSeconds: 25 },
  { kind: 'pause', durationSeconds: null },
  { kind: 'analysis', template: TEMPLATE, intervalSeconds: 60, count: 2 },
  { kind: 'setWeight', canaryPercent: 100, wave: null },
];
const SHIFT = 0;
const TIMED_PAUSE = 1;
const MANUAL_GATE = 2;
const ANALYSIS = 3;
const LAST = 4;

/** A prepared deployment (baseline v1.4.0, canary v1.5.0) at `stepIndex`, version 7. */
function at(stepIndex: number, run: Partial<RunState> = {}, change: Partial<Deployment> = {}): Deployment {
  const d = makeDeployment({ steps: STEPS });
  return { ...d, phase: phaseOfStep(d, stepIndex), stepIndex, version: 7, run: { ...initialRunState, stepStartedAt: T0.toISOString(), ...run }, ...change };
}

/** A hold opened in `stepIndex` at T0 for `seconds`, stored at version 7. */
function hold(stepIndex: number, seconds: number, kind: Hold['kind'] = 'wait', version = 7): Hold {
  return { token: 'token-1', kind, stepIndex, since: T0.toISOString(), seconds, version };
}

function judgment(stepIndex: number, run: number, score: number): JudgmentSummary {
  return { stepIndex, run, at: NOW.toISOString(), score, classification: score >= 95 ? 'Pass' : score >= 75 ? 'Marginal' : 'Fail', reason: null };
}

describe('decideNext', () => {
  const rollback = { kind: 'rollback', reason: 'canceled by alice', finalPhase: 'CANCELED' } as const;
  const gate = GATE_HOLD_SECONDS;
  const table: { situation: string; d: Deployment; expected: Instruction }[] = [
    { situation: 'a pending deployment is prepared', d: makeDeployment({ steps: STEPS }), expected: { kind: 'prepare', atVersion: 1 } },
    { situation: 'a setWeight step not shifted yet shifts', d: at(SHIFT), expected: { kind: 'shift', atVersion: 7, stepIndex: SHIFT } },
    { situation: 'a shifted setWeight step awaits convergence', d: at(SHIFT, { shifted: true }), expected: { kind: 'converge', atVersion: 7, stepIndex: SHIFT } },
    { situation: 'a timed pause just begun is one hold of the whole pause', d: at(TIMED_PAUSE), expected: { kind: 'wait', atVersion: 7, stepIndex: TIMED_PAUSE, seconds: 25 } },
    { situation: 'a timed pause holds only what remains of it', d: at(TIMED_PAUSE, { waitedSeconds: 20 }), expected: { kind: 'wait', atVersion: 7, stepIndex: TIMED_PAUSE, seconds: 5 } },
    // holdClosed() completes the step at its duration, so this is never stored; were it, a one-second hold completes it.
    { situation: 'a timed pause at its duration holds the shortest hold there is', d: at(TIMED_PAUSE, { waitedSeconds: 25 }), expected: { kind: 'wait', atVersion: 7, stepIndex: TIMED_PAUSE, seconds: 1 } },
    { situation: 'a manual gate holds until it is passed, re-armed every gate hold', d: at(MANUAL_GATE), expected: { kind: 'gate', atVersion: 7, stepIndex: MANUAL_GATE, seconds: gate } },
    { situation: 'an operator’s pause on a setWeight step holds at a gate', d: at(SHIFT, { paused: true }), expected: { kind: 'gate', atVersion: 7, stepIndex: SHIFT, seconds: gate } },
    { situation: 'an operator’s pause inside a timed pause holds at a gate', d: at(TIMED_PAUSE, { paused: true, waitedSeconds: 10 }), expected: { kind: 'gate', atVersion: 7, stepIndex: TIMED_PAUSE, seconds: gate } },
    { situation: 'an analysis holds for its first interval', d: at(ANALYSIS), expected: { kind: 'wait', atVersion: 7, stepIndex: ANALYSIS, seconds: 60 } },
    { situation: 'an analysis holds the rest of its first interval', d: at(ANALYSIS, { waitedSeconds: 55 }), expected: { kind: 'wait', atVersion: 7, stepIndex: ANALYSIS, seconds: 5 } },
    { situation: 'an analysis judges once its first interval is over', d: at(ANALYSIS, { waitedSeconds: 60 }), expected: { kind: 'judge', atVersion: 7, stepIndex: ANALYSIS, run: 0 } },
    { situation: 'after one judgment the next is due one interval later', d: at(ANALYSIS, { waitedSeconds: 60, analysisRuns: 1 }), expected: { kind: 'wait', atVersion: 7, stepIndex: ANALYSIS, seconds: 60 } },
    { situation: 'the second judgment is due at two intervals', d: at(ANALYSIS, { waitedSeconds: 120, analysisRuns: 1 }), expected: { kind: 'judge', atVersion: 7, stepIndex: ANALYSIS, run: 1 } },
    { situation: 'a deferred judgment puts the next one off by an interval', d: at(ANALYSIS, { waitedSeconds: 60, analysisDeferrals: 1 }), expected: { kind: 'wait', atVersion: 7, stepIndex: ANALYSIS, seconds: 60 } },
    { situation: 'a deferred judgment is taken again once that interval is over', d: at(ANALYSIS, { waitedSeconds: 120, analysisDeferrals: 1 }), expected: { kind: 'judge', atVersion: 7, stepIndex: ANALYSIS, run: 0 } },
    { situation: 'an open hold is closed first', d: at(TIMED_PAUSE, { hold: hold(TIMED_PAUSE, 25) }), expected: { kind: 'unhold', atVersion: 7 } },
    { situation: 'an open hold is closed before a decided rollback (a cancel woke it)', d: at(TIMED_PAUSE, { hold: hold(TIMED_PAUSE, 25), outcome: { kind: 'rollback', reason: 'canceled by alice', finalPhase: 'CANCELED' } }, { phase: 'ROLLING_BACK' }), expected: { kind: 'unhold', atVersion: 7 } },
    { situation: 'a decided rollback rolls back with its reason', d: at(TIMED_PAUSE, { outcome: rollback }, { phase: 'ROLLING_BACK' }), expected: { kind: 'rollback', atVersion: 7, reason: 'canceled by alice' } },
    { situation: 'a decided rollback wins over an operator’s pause', d: at(SHIFT, { outcome: rollback, paused: true }, { phase: 'ROLLING_BACK' }), expected: { kind: 'rollback', atVersion: 7, reason: 'canceled by alice' } },
    { situation: 'a decided promotion promotes', d: at(SHIFT, { outcome: { kind: 'promote', reason: 'promoted in full by alice' } }, { phase: 'PROMOTING' }), expected: { kind: 'promote', atVersion: 7 } },
    { situation: 'every step done promotes', d: at(STEPS.length), expected: { kind: 'promote', atVersion: 7 } },
    { situation: 'every step done promotes even when paused', d: at(STEPS.length, { paused: true }), expected: { kind: 'promote', atVersion: 7 } },
    { situation: 'a promoted deployment releases its lock', d: at(STEPS.length, {}, { phase: 'SUCCEEDED' }), expected: { kind: 'release', atVersion: 7 } },
    { situation: 'a canceled deployment releases its lock', d: at(SHIFT, { outcome: rollback }, { phase: 'CANCELED' }), expected: { kind: 'release', atVersion: 7 } },
    { situation: 'a released deployment is done', d: at(STEPS.length, { released: true }, { phase: 'SUCCEEDED' }), expected: { kind: 'done', atVersion: 7 } },
  ];

  it.each(table)('$situation', ({ d, expected }) => {
    expect(decideNext(d)).toEqual(expected);
  });
});

describe('isCurrent', () => {
  const d = at(SHIFT);

  it('holds for the same kind at the same version', () => {
    expect(isCurrent({ kind: 'shift', atVersion: 7, stepIndex: SHIFT }, d)).toBe(true);
  });

  it('fails for an older version (a retry whose write landed, an operator’s request)', () => {
    expect(isCurrent({ kind: 'shift', atVersion: 6, stepIndex: SHIFT }, d)).toBe(false);
  });

  it('fails for another kind at the same version', () => {
    expect(isCurrent({ kind: 'converge', atVersion: 7, stepIndex: SHIFT }, d)).toBe(false);
  });
});

describe('transitions', () => {
  it('prepared: resolves the baseline, sets the weights, enters the first step’s phase and starts its clock', () => {
    const d = makeDeployment({ steps: STEPS, baseline: null });
    const next = prepared(d, { baseline: 'v41', weights: { aws: { v41: 100, 'v1.5.0': 0 } }, fencingToken: 3 }, NOW);
    expect(next).toMatchObject({ baseline: { version: 'v41' }, weights: { aws: { v41: 100, 'v1.5.0': 0 } }, phase: 'SHIFTING', version: 2, stepIndex: 0 });
    expect(next.run.stepStartedAt).toBe(NOW.toISOString());
    // The lock's fencing token from prepare on: a different one later means the run lost the service.
    expect(next.run.fencingToken).toBe(3);
    expect(decideNext(next)).toEqual({ kind: 'shift', atVersion: 2, stepIndex: 0 });
  });

  it('shifted: marks the step shifted and converging', () => {
    const next = shifted(at(SHIFT), { aws: { 'v1.4.0': 90, 'v1.5.0': 10 } }, NOW);
    expect(next).toMatchObject({ phase: 'CONVERGING', stepIndex: SHIFT, version: 8, weights: { aws: { 'v1.4.0': 90, 'v1.5.0': 10 } } });
    expect(next.run.shifted).toBe(true);
  });

  describe('holds', () => {
    it('holdOpened stores the token, the step, when and for how long, and the version that stored it', () => {
      const next = holdOpened(at(TIMED_PAUSE), { token: 'token-9', kind: 'wait', seconds: 25 }, NOW);
      expect(next.version).toBe(8);
      expect(next.run.hold).toEqual({ token: 'token-9', kind: 'wait', stepIndex: TIMED_PAUSE, since: NOW.toISOString(), seconds: 25, version: 8 });
      expect(decideNext(next)).toEqual({ kind: 'unhold', atVersion: 8 });
      // Stored by the run itself: nothing to wake.
      expect(holdToWake(next)).toBeNull();
    });

    it('heldSeconds: all of them when it timed out; the time it lasted, at most its length, when woken or left', () => {
      const h = hold(TIMED_PAUSE, 25);
      expect(heldSeconds(h, true, T0)).toBe(25);
      expect(heldSeconds(h, false, new Date(T0.getTime() + 10_900))).toBe(10);
      expect(heldSeconds(h, false, new Date(T0.getTime() + 3_600_000))).toBe(25);
      expect(heldSeconds(h, false, new Date(T0.getTime() - 5_000))).toBe(0);
    });

    it('holdClosed adds the held seconds to the step and closes the hold', () => {
      const next = holdClosed(at(TIMED_PAUSE, { waitedSeconds: 5, hold: hold(TIMED_PAUSE, 20) }), 10, NOW);
      expect(next).toMatchObject({ stepIndex: TIMED_PAUSE, version: 8 });
      expect(next.run).toMatchObject({ waitedSeconds: 15, hold: null });
      expect(decideNext(next)).toEqual({ kind: 'wait', atVersion: 8, stepIndex: TIMED_PAUSE, seconds: 10 });
    });

    it('holdClosed completes a timed pause exactly at its duration', () => {
      const next = holdClosed(at(TIMED_PAUSE, { waitedSeconds: 5, hold: hold(TIMED_PAUSE, 20) }), 20, LATER);
      expect(next.stepIndex).toBe(MANUAL_GATE);
      expect(next.phase).toBe('PAUSED');
      expect(next.run).toMatchObject({ waitedSeconds: 0, stepStartedAt: LATER.toISOString(), hold: null });
    });

    it('holdClosed never completes an analysis step: judgments do', () => {
      const next = holdClosed(at(ANALYSIS, { waitedSeconds: 50, hold: hold(ANALYSIS, 10) }), 10, NOW);
      expect(next.stepIndex).toBe(ANALYSIS);
      expect(next.run.waitedSeconds).toBe(60);
      expect(decideNext(next)).toMatchObject({ kind: 'judge' });
    });

    it('a gate’s hold counts no time; a hold of an earlier step (passed by promote) counts none for the new step', () => {
      expect(holdClosed(at(MANUAL_GATE, { hold: hold(MANUAL_GATE, GATE_HOLD_SECONDS, 'gate') }), GATE_HOLD_SECONDS, NOW).run.waitedSeconds).toBe(0);
      const passed = holdClosed(at(MANUAL_GATE, { hold: hold(TIMED_PAUSE, 25) }), 25, NOW);
      expect(passed).toMatchObject({ stepIndex: MANUAL_GATE, run: { waitedSeconds: 0, hold: null } });
    });

    it('holdToWake: a hold stored before the deployment’s version was changed by a request', () => {
      const open = at(TIMED_PAUSE, { hold: hold(TIMED_PAUSE, 25, 'wait', 7) });
      expect(holdToWake(open)).toBeNull();
      const canceled = cancelRequested(open, 'alice', null, NOW).deployment;
      expect(holdToWake(canceled)).toEqual(open.run.hold);
    });
  });

  it('withUnverified records the groups a traffic step could not verify, in the same version', () => {
    const next = withUnverified(stepCompleted(at(SHIFT, { shifted: true }), NOW), ['envoy-aws-use1']);
    expect(next.version).toBe(8);
    expect(next.run.unverified).toEqual(['envoy-aws-use1']);
  });

  it('executionMoved records the execution that drives the run now', () => {
    const next = executionMoved(at(SHIFT), 'dep_1-2', NOW);
    expect(next).toMatchObject({ version: 8, run: { execution: 'dep_1-2' } });
    expect(decideNext(next)).toEqual({ kind: 'shift', atVersion: 8, stepIndex: SHIFT });
  });

  describe('judged', () => {
    it('a failing judgment decides a rollback with its reason, and records the judgment', () => {
      const d = at(ANALYSIS, { waitedSeconds: 60 });
      const next = judged(d, judgment(ANALYSIS, 0, 12), { pass: false, reason: 'analysis 4/5 failed: judgment 1 scored 12' }, NOW);
      expect(next.phase).toBe('ROLLING_BACK');
      expect(next.run.outcome).toEqual({ kind: 'rollback', reason: 'analysis 4/5 failed: judgment 1 scored 12', finalPhase: 'ROLLED_BACK' });
      expect(next.run.judgments).toEqual([judgment(ANALYSIS, 0, 12)]);
      expect(next.run.analysisRuns).toBe(1);
      expect(decideNext(next)).toEqual({ kind: 'rollback', atVersion: next.version, reason: 'analysis 4/5 failed: judgment 1 scored 12' });
    });

    it('a passing judgment that is not the last keeps the step', () => {
      const next = judged(at(ANALYSIS, { waitedSeconds: 60 }), judgment(ANALYSIS, 0, 100), { pass: true, reason: '' }, NOW);
      expect(next.stepIndex).toBe(ANALYSIS);
      expect(next.run).toMatchObject({ analysisRuns: 1, waitedSeconds: 60, outcome: null });
    });

    it('the last passing judgment completes the step, keeping every judgment', () => {
      const d = at(ANALYSIS, { waitedSeconds: 120, analysisRuns: 1, analysisDeferrals: 1, judgments: [judgment(ANALYSIS, 0, 100)] });
      const next = judged(d, judgment(ANALYSIS, 1, 98), { pass: true, reason: 'passed' }, NOW);
      expect(next.stepIndex).toBe(LAST);
      expect(next.phase).toBe('SHIFTING');
      expect(next.run).toMatchObject({ analysisRuns: 0, analysisDeferrals: 0, waitedSeconds: 0, outcome: null });
      expect(next.run.judgments).toEqual([judgment(ANALYSIS, 0, 100), judgment(ANALYSIS, 1, 98)]);
    });
  });

  it('judgmentDeferred: counts a deferral, not a run', () => {
    const next = judgmentDeferred(at(ANALYSIS, { waitedSeconds: 60 }), NOW);
    expect(next.run).toMatchObject({ analysisRuns: 0, analysisDeferrals: 1, waitedSeconds: 60 });
    expect(decideNext(next)).toMatchObject({ kind: 'wait', seconds: 60 });
  });

  it('stepCompleted: moves to the next step and resets every per-step counter', () => {
    const d = at(ANALYSIS, { waitedSeconds: 180, analysisRuns: 2, analysisDeferrals: 1, shifted: true, hold: hold(ANALYSIS, 60), judgments: [judgment(ANALYSIS, 0, 100)] });
    const next = stepCompleted(d, NOW);
    expect(next).toMatchObject({ stepIndex: LAST, phase: 'SHIFTING', version: 8, updatedAt: NOW.toISOString() });
    // An open hold is kept: a request whose wake was lost can wake it again (control-deployment.ts).
    expect(next.run).toEqual({ ...d.run, stepStartedAt: NOW.toISOString(), waitedSeconds: 0, analysisRuns: 0, analysisDeferrals: 0, shifted: false, hold: hold(ANALYSIS, 60) });
  });

  it('stepCompleted after the last step: PROMOTING, and decideNext promotes', () => {
    const next = stepCompleted(at(LAST, { shifted: true }), NOW);
    expect(next).toMatchObject({ stepIndex: STEPS.length, phase: 'PROMOTING' });
    expect(decideNext(next)).toEqual({ kind: 'promote', atVersion: next.version });
  });

  it('stepCompleted keeps the phase of a decided outcome', () => {
    const next = stepCompleted(at(TIMED_PAUSE, { outcome: { kind: 'rollback', reason: 'x', finalPhase: 'ROLLED_BACK' } }, { phase: 'ROLLING_BACK' }), NOW);
    expect(next.phase).toBe('ROLLING_BACK');
  });

  describe('rollbackDecided', () => {
    it('decides a rollback and keeps an open hold (to wake the run)', () => {
      const next = rollbackDecided(at(MANUAL_GATE, { hold: hold(MANUAL_GATE, GATE_HOLD_SECONDS, 'gate') }), 'NotConvergedError: edge-1', 'ROLLED_BACK', NOW);
      expect(next.phase).toBe('ROLLING_BACK');
      expect(next.run).toMatchObject({ outcome: { kind: 'rollback', reason: 'NotConvergedError: edge-1', finalPhase: 'ROLLED_BACK' }, hold: hold(MANUAL_GATE, GATE_HOLD_SECONDS, 'gate') });
    });

    it('keeps a rollback already decided, and leaves a finished deployment alone (same object)', () => {
      const rolling = at(SHIFT, { outcome: { kind: 'rollback', reason: 'canceled by alice', finalPhase: 'CANCELED' } }, { phase: 'ROLLING_BACK' });
      expect(rollbackDecided(rolling, 'later', 'ROLLED_BACK', NOW)).toBe(rolling);
      const done = at(STEPS.length, {}, { phase: 'SUCCEEDED' });
      expect(rollbackDecided(done, 'later', 'ROLLED_BACK', NOW)).toBe(done);
    });
  });

  describe('finished', () => {
    const weights = { aws: { 'v1.4.0': 0, 'v1.5.0': 100 } };

    it('without an outcome: SUCCEEDED, promoted, the judgments in the result', () => {
      const d = at(STEPS.length, { judgments: [judgment(ANALYSIS, 0, 100)], hold: hold(LAST, 10) }, { phase: 'PROMOTING' });
      const next = finished(d, weights, NOW);
      expect(next.phase).toBe('SUCCEEDED');
      expect(next.result).toEqual({ outcome: 'promoted', reason: 'every step passed: v1.5.0 serves 100%', weights, judgments: [judgment(ANALYSIS, 0, 100)] });
      expect(next.weights).toEqual(weights);
      expect(next.run).toMatchObject({ outcome: { kind: 'promote', reason: 'every step passed: v1.5.0 serves 100%' }, hold: null });
      expect(decideNext(next)).toEqual({ kind: 'release', atVersion: next.version });
    });

    it('a promotion decided by an operator: SUCCEEDED with the operator’s reason', () => {
      const next = finished(at(SHIFT, { outcome: { kind: 'promote', reason: 'promoted in full by alice: hotfix', requestedBy: 'alice' } }, { phase: 'PROMOTING' }), weights, NOW);
      expect(next.phase).toBe('SUCCEEDED');
      expect(next.result).toMatchObject({ outcome: 'promoted', reason: 'promoted in full by alice: hotfix', requestedBy: 'alice' });
    });

    it.each([
      { finalPhase: 'CANCELED', outcome: 'canceled' },
      { finalPhase: 'ROLLED_BACK', outcome: 'rolled back' },
      { finalPhase: 'FAILED', outcome: 'rolled back' },
    ] as const)('a rollback whose final phase is $finalPhase ends $finalPhase ($outcome)', ({ finalPhase, outcome }) => {
      const back = { aws: { 'v1.4.0': 100, 'v1.5.0': 0 } };
      const next = finished(at(SHIFT, { outcome: { kind: 'rollback', reason: 'why', finalPhase } }, { phase: 'ROLLING_BACK' }), back, NOW);
      expect(next.phase).toBe(finalPhase);
      expect(isFinished(next.phase)).toBe(true);
      expect(next.result).toMatchObject({ outcome, reason: 'why', weights: back });
    });
  });

  it('released: the run is done', () => {
    const next = released(at(STEPS.length, {}, { phase: 'SUCCEEDED' }), NOW);
    expect(next.run.released).toBe(true);
    expect(next.phase).toBe('SUCCEEDED');
    expect(decideNext(next)).toEqual({ kind: 'done', atVersion: 8 });
  });
});

describe('operators’ requests', () => {
  const done = (phase: Phase) => at(STEPS.length, { outcome: { kind: 'promote', reason: 'every step passed' } }, { phase });

  describe('cancel', () => {
    it('decides a rollback ending CANCELED, naming who', () => {
      const { deployment, changed } = cancelRequested(at(TIMED_PAUSE, { waitedSeconds: 10 }), 'alice', null, NOW);
      expect(changed).toBe(true);
      expect(deployment.phase).toBe('ROLLING_BACK');
      expect(deployment.run.outcome).toEqual({ kind: 'rollback', reason: 'canceled by alice', finalPhase: 'CANCELED', requestedBy: 'alice' });
      expect(decideNext(deployment)).toEqual({ kind: 'rollback', atVersion: 8, reason: 'canceled by alice' });
    });

    it('keeps the operator’s reason in the outcome, which progress and result show', () => {
      const { deployment } = cancelRequested(at(SHIFT), 'alice', 'latency regression in eu', NOW);
      expect(deployment.run.outcome?.reason).toBe('canceled by alice: latency regression in eu');
    });

    it('is idempotent: a second cancel changes nothing', () => {
      const first = cancelRequested(at(SHIFT), 'alice', null, NOW).deployment;
      const second = cancelRequested(first, 'bob', null, LATER);
      expect(second).toEqual({ deployment: first, changed: false });
      expect(second.deployment.run.outcome?.reason).toBe('canceled by alice');
    });

    it('is tolerant: a cancel of a finished deployment changes nothing', () => {
      for (const phase of ['SUCCEEDED', 'ROLLED_BACK', 'CANCELED', 'FAILED'] as const) {
        const d = done(phase);
        expect(cancelRequested(d, 'alice', null, NOW)).toEqual({ deployment: d, changed: false });
      }
    });

    it('overrides an operator’s full promotion not yet carried out', () => {
      const promoting = promoteRequested(at(SHIFT), true, 'bob', null, NOW).deployment;
      const { deployment, changed } = cancelRequested(promoting, 'alice', null, LATER);
      expect(changed).toBe(true);
      expect(decideNext(deployment)).toMatchObject({ kind: 'rollback', reason: 'canceled by alice' });
    });
  });

  describe('rollback', () => {
    it('decides a rollback ending ROLLED_BACK, naming who', () => {
      const { deployment, changed } = rollbackRequested(at(ANALYSIS, { waitedSeconds: 30 }), 'alice', null, NOW);
      expect(changed).toBe(true);
      expect(deployment.phase).toBe('ROLLING_BACK');
      expect(deployment.run.outcome).toEqual({ kind: 'rollback', reason: 'rolled back by alice', finalPhase: 'ROLLED_BACK', requestedBy: 'alice' });
    });
  });

  describe('promote', () => {
    it('full: decides the promotion from anywhere in the plan, lifting a pause', () => {
      const { deployment, changed } = promoteRequested(at(SHIFT, { paused: true, shifted: true }), true, 'alice', null, NOW);
      expect(changed).toBe(true);
      expect(deployment.phase).toBe('PROMOTING');
      expect(deployment.run).toMatchObject({ paused: false, outcome: { kind: 'promote', reason: 'promoted in full by alice', requestedBy: 'alice' } });
      expect(decideNext(deployment)).toEqual({ kind: 'promote', atVersion: 8 });
    });

    it('full, twice: the second changes nothing', () => {
      const first = promoteRequested(at(SHIFT), true, 'alice', null, NOW).deployment;
      expect(promoteRequested(first, true, 'alice', null, LATER)).toEqual({ deployment: first, changed: false });
    });

    it('full, before the run prepared anything: preparation still comes first', () => {
      const pending = makeDeployment({ steps: STEPS, baseline: null });
      const { deployment } = promoteRequested(pending, true, 'alice', null, NOW);
      // Promoting needs a baseline and a registered canary: skipping prepare would end "SUCCEEDED" with nothing moved.
      expect(decideNext(deployment)).toEqual({ kind: 'prepare', atVersion: 2 });
    });

    it('at a timed pause: completes the step, whatever was waited', () => {
      const { deployment, changed } = promoteRequested(at(TIMED_PAUSE, { waitedSeconds: 10 }), false, 'alice', null, NOW);
      expect(changed).toBe(true);
      expect(deployment.stepIndex).toBe(MANUAL_GATE);
      expect(deployment.run.waitedSeconds).toBe(0);
    });

    it('at a manual gate: passes it', () => {
      const gateHold = hold(MANUAL_GATE, GATE_HOLD_SECONDS, 'gate');
      const { deployment } = promoteRequested(at(MANUAL_GATE, { hold: gateHold }), false, 'alice', null, NOW);
      // Kept, so the gate can be woken (again); the run closes it, then goes on.
      expect(deployment.stepIndex).toBe(ANALYSIS);
      expect(deployment.run.hold).toEqual(gateHold);
      expect(holdToWake(deployment)).toEqual(gateHold);
    });

    it.each([
      { where: 'a setWeight step', d: () => at(SHIFT) },
      { where: 'an analysis step', d: () => at(ANALYSIS) },
      { where: 'a pending deployment', d: () => makeDeployment({ steps: STEPS }) },
      { where: 'the promotion itself', d: () => at(STEPS.length) },
    ])('outside a pause ($where) is refused with ConflictError', ({ d }) => {
      expect(() => promoteRequested(d(), false, 'alice', null, NOW)).toThrow(ConflictError);
      expect(() => promoteRequested(d(), false, 'alice', null, NOW)).toThrow(/is not at a pause/);
    });
  });

  describe('pause', () => {
    it('holds the run at a gate', () => {
      const { deployment, changed } = pauseRequested(at(SHIFT), NOW);
      expect(changed).toBe(true);
      expect(deployment.run.paused).toBe(true);
      expect(decideNext(deployment)).toEqual({ kind: 'gate', atVersion: 8, stepIndex: SHIFT, seconds: GATE_HOLD_SECONDS });
    });

    it('is idempotent', () => {
      const paused = pauseRequested(at(SHIFT), NOW).deployment;
      expect(pauseRequested(paused, LATER)).toEqual({ deployment: paused, changed: false });
    });
  });

  describe('resume', () => {
    it('lifts an operator’s pause, staying at the step', () => {
      const paused = pauseRequested(at(TIMED_PAUSE, { waitedSeconds: 10 }), NOW).deployment;
      const { deployment, changed } = resumeRequested(paused, LATER);
      expect(changed).toBe(true);
      expect(deployment).toMatchObject({ stepIndex: TIMED_PAUSE, run: { paused: false, waitedSeconds: 10 } });
      expect(decideNext(deployment)).toMatchObject({ kind: 'wait', seconds: 15 });
    });

    it('passes a manual gate', () => {
      const gateHold = hold(MANUAL_GATE, GATE_HOLD_SECONDS, 'gate');
      const { deployment, changed } = resumeRequested(at(MANUAL_GATE, { hold: gateHold }), NOW);
      expect(changed).toBe(true);
      expect(deployment.stepIndex).toBe(ANALYSIS);
      expect(deployment.run).toMatchObject({ paused: false, hold: gateHold });
    });

    it('with nothing paused and no gate: changes nothing', () => {
      const d = at(SHIFT);
      expect(resumeRequested(d, NOW)).toEqual({ deployment: d, changed: false });
    });
  });

  describe('once the end is decided', () => {
    const requests: { verb: string; request: (d: Deployment) => RequestOutcome }[] = [
      { verb: 'rollback', request: (d) => rollbackRequested(d, 'alice', null, NOW) },
      { verb: 'promote', request: (d) => promoteRequested(d, false, 'alice', null, NOW) },
      { verb: 'promote full', request: (d) => promoteRequested(d, true, 'alice', null, NOW) },
      { verb: 'pause', request: (d) => pauseRequested(d, NOW) },
      { verb: 'resume', request: (d) => resumeRequested(d, NOW) },
    ];

    it.each(requests)('$verb of a finished deployment is refused with ConflictError', ({ request }) => {
      for (const phase of ['SUCCEEDED', 'ROLLED_BACK', 'CANCELED', 'FAILED'] as const) expect(() => request(done(phase))).toThrow(ConflictError);
    });

    it.each(requests)('$verb while a rollback is under way is refused with ConflictError', ({ request }) => {
      const rolling = cancelRequested(at(TIMED_PAUSE), 'bob', null, NOW).deployment;
      expect(() => request(rolling)).toThrow(ConflictError);
    });

    it('the refusal says why', () => {
      expect(() => pauseRequested(done('SUCCEEDED'), NOW)).toThrow(/cannot pause deployment dep_\w+: it is succeeded/);
      expect(() => resumeRequested(cancelRequested(at(SHIFT), 'bob', null, NOW).deployment, NOW)).toThrow(/cannot resume deployment dep_\w+: it is rolling back/);
    });
  });
});

// ---- the property: any interleaving of the run's tasks and operators' requests ----

type Event =
  | { kind: 'task'; succeed: boolean; seconds: number }
  /** The task of an instruction handed out earlier (a retry, a duplicate), acting only if still current. */
  | { kind: 'stale-task'; age: number; succeed: boolean; seconds: number }
  | { kind: 'recover' }
  | { kind: 'cancel' }
  | { kind: 'rollback' }
  | { kind: 'promote'; full: boolean }
  | { kind: 'pause' }
  | { kind: 'resume' };

/** Work mostly succeeds, so runs get far into their plans (and to their ends) before a rollback. */
const succeeds = fc.integer({ min: 0, max: 19 }).map((n) => n > 0);

const eventArbitrary: fc.Arbitrary<Event> = fc.oneof(
  { weight: 40, arbitrary: fc.record({ kind: fc.constant('task' as const), succeed: succeeds, seconds: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('stale-task' as const), age: fc.integer({ min: 1, max: 4 }), succeed: succeeds, seconds: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'recover' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancel' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rollback' } as const) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('promote' as const), full: fc.integer({ min: 0, max: 3 }).map((n) => n === 0) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'pause' } as const) },
  { weight: 3, arbitrary: fc.constant({ kind: 'resume' } as const) },
);

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('setWeight' as const), canaryPercent: fc.integer({ min: 0, max: 100 }), wave: fc.constant(null) }),
  fc.record({ kind: fc.constant('pause' as const), durationSeconds: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }) }),
  fc.record({ kind: fc.constant('analysis' as const), template: fc.constant(TEMPLATE), intervalSeconds: fc.integer({ min: 1, max: 30 }), count: fc.integer({ min: 1, max: 3 }) }),
);

/** What the run's task for `instruction` writes, as the use cases do it (succeed: the work went well). */
function carryOut(d: Deployment, instruction: Instruction, event: { succeed: boolean; seconds: number }, now: Date): Deployment {
  switch (instruction.kind) {
    case 'prepare':
      return event.succeed ? prepared(d, { baseline: 'v1.4.0', weights: {}, fencingToken: 1 }, now) : rollbackDecided(d, 'not registered', 'FAILED', now);
    case 'shift':
      return shifted(d, {}, now);
    case 'converge':
      return event.succeed ? stepCompleted(d, now) : rollbackDecided(d, 'NotConvergedError; rolled back', 'ROLLED_BACK', now);
    case 'wait':
    case 'gate':
      return holdOpened(d, { token: `token-${d.version}`, kind: instruction.kind, seconds: instruction.seconds }, now);
    case 'unhold':
      // Woken early (a few seconds) or timed out (all of them).
      return holdClosed(d, d.run.hold ? heldSeconds(d.run.hold, event.seconds > 20, new Date(Date.parse(d.run.hold.since) + event.seconds * 1000)) : 0, now);
    case 'judge':
      if (event.seconds % 3 === 0) return judgmentDeferred(d, now);
      return judged(d, judgment(d.stepIndex, d.run.analysisRuns, event.succeed ? 100 : 0), { pass: event.succeed, reason: event.succeed ? '' : 'failed' }, now);
    case 'promote':
    case 'rollback':
      return finished(d, {}, now);
    case 'release':
      return released(d, now);
    case 'done':
      return d;
  }
}

function request(d: Deployment, event: Event, now: Date): Deployment {
  try {
    switch (event.kind) {
      case 'cancel':
        return cancelRequested(d, 'alice', null, now).deployment;
      case 'rollback':
        return rollbackRequested(d, 'alice', null, now).deployment;
      case 'promote':
        return promoteRequested(d, event.full, 'alice', null, now).deployment;
      case 'pause':
        return pauseRequested(d, now).deployment;
      case 'resume':
        return resumeRequested(d, now).deployment;
      default:
        return d;
    }
  } catch (error) {
    if (error instanceof ConflictError) return d; // a 409: nothing written
    throw error;
  }
}

describe('property: any sequence of task completions and operators’ requests', () => {
  it('never moves stepIndex back or past the plan, and never changes a finished deployment’s phase', () => {
    const reached = { finished: 0, eventsAfterFinished: 0, planCompleted: 0 };
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 1, maxLength: 6 }), fc.array(eventArbitrary, { maxLength: 150, size: 'max' }), (steps, events) => {
        let d = makeDeployment({ steps, baseline: null });
        const handedOut: Instruction[] = [];
        let clock = T0.getTime();
        for (const event of events) {
          const now = new Date((clock += 1000));
          const before = d;
          if (event.kind === 'task') {
            const instruction = decideNext(d);
            handedOut.push(instruction);
            d = carryOut(d, instruction, event, now);
          } else if (event.kind === 'stale-task') {
            const instruction = handedOut.at(-event.age);
            if (instruction && isCurrent(instruction, d)) d = carryOut(d, decideNext(d), event, now);
          } else if (event.kind === 'recover') {
            d = rollbackDecided(d, 'InternalError; rolled back', 'ROLLED_BACK', now);
          } else {
            d = request(d, event, now);
          }

          expect(d.stepIndex).toBeGreaterThanOrEqual(before.stepIndex);
          expect(d.stepIndex).toBeLessThanOrEqual(d.steps.length);
          expect(d.version).toBeGreaterThanOrEqual(before.version);
          if (isFinished(before.phase)) expect(d.phase).toBe(before.phase);
          if (d !== before) expect(d.version).toBeGreaterThan(before.version);
          if (isFinished(before.phase)) reached.eventsAfterFinished++;
        }
        if (isFinished(d.phase)) reached.finished++;
        if (d.stepIndex === d.steps.length) reached.planCompleted++;
      }),
      { numRuns: 200 },
    );
    // The generated runs do reach the situations the property is about.
    expect(reached.finished).toBeGreaterThan(100);
    expect(reached.eventsAfterFinished).toBeGreaterThan(1000);
    expect(reached.planCompleted).toBeGreaterThan(15);
  });
});
