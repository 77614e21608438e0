/** The verdict over a run of judgments (shared/domain/judge/verdict.ts), as Spinnaker's canary stage reaches it. */
import { describe, expect, it } from 'vitest';
import { classifyScore } from '../../../../shared/domain/judge/score.js';
import { continuesAfter, judgmentCount, runVerdict } from '../../../../shared/domain/judge/verdict.js';
import { validationErrorOf } from '../../../support/errors.js';

const THRESHOLDS = { pass: 95, marginal: 75 };

describe('judgmentCount', () => {
  it.each([
    { lifetimeSeconds: 3 * 3600, intervalSeconds: 3600, count: 3, why: "Spinnaker's suggestion: 3 h, hourly" },
    { lifetimeSeconds: 3 * 3600, intervalSeconds: undefined, count: 1, why: 'no interval: one judgment at the end' },
    { lifetimeSeconds: 3600, intervalSeconds: 7200, count: 1, why: 'an interval longer than the lifetime is capped at it' },
    { lifetimeSeconds: 3600, intervalSeconds: 1500, count: 2, why: 'a partial last interval is not judged' },
  ])('$why → $count', ({ lifetimeSeconds, intervalSeconds, count }) => {
    expect(judgmentCount(lifetimeSeconds, intervalSeconds)).toBe(count);
  });

  it('refuses a lifetime or interval that is not positive', () => {
    expect(validationErrorOf(() => judgmentCount(0)).field).toBe('lifetimeSeconds');
    expect(validationErrorOf(() => judgmentCount(60, -1)).field).toBe('intervalSeconds');
  });
});

describe('runVerdict', () => {
  it.each([
    { why: 'all judgments in, the last passes', scores: [80, 90, 96], verdict: { status: 'passed', judgment: 3, score: 96 } },
    { why: 'the last score alone decides: earlier marginal scores do not fail a run that ends well', scores: [76, 80, 95], verdict: { status: 'passed', judgment: 3, score: 95 } },
    { why: 'the last score below pass fails the run', scores: [99, 99, 94.99], verdict: { status: 'failed', judgment: 3, score: 94.99 } },
    { why: 'a score at or below marginal ends the run at once', scores: [99, 70], verdict: { status: 'failed', judgment: 2, score: 70 } },
    { why: 'exactly marginal ends the run, though the judge calls it Marginal', scores: [75], verdict: { status: 'failed', judgment: 1, score: 75 } },
    { why: 'just above marginal goes on', scores: [75.01], verdict: { status: 'running', judgmentsDone: 1, judgmentsPlanned: 3 } },
    { why: 'nothing judged yet', scores: [], verdict: { status: 'running', judgmentsDone: 0, judgmentsPlanned: 3 } },
  ])('$why', ({ scores, verdict }) => {
    expect(runVerdict(scores, 3, THRESHOLDS)).toMatchObject(verdict);
  });

  it('the exactly-marginal edge: Marginal by classification, a failure by the stage', () => {
    expect(classifyScore(75, THRESHOLDS)).toBe('Marginal');
    expect(continuesAfter(75, THRESHOLDS)).toBe(false);
    expect(runVerdict([75], 1, THRESHOLDS)).toMatchObject({ status: 'failed', reason: 'judgment 1 scored 75, at or below the marginal threshold 75' });
  });

  it('stops at the first failing judgment, whatever follows', () => {
    expect(runVerdict([99, 40, 99, 99], 4, THRESHOLDS)).toMatchObject({ status: 'failed', judgment: 2 });
  });

  it('without thresholds every run passes', () => {
    expect(runVerdict([0, 0], 2)).toMatchObject({ status: 'passed', judgment: 2, score: 0 });
    expect(continuesAfter(0, undefined)).toBe(true);
  });

  it('refuses more scores than planned judgments', () => {
    expect(validationErrorOf(() => runVerdict([99, 99], 1, THRESHOLDS)).rule).toBe('at-most-planned');
    expect(validationErrorOf(() => runVerdict([], 0, THRESHOLDS)).rule).toBe('positive-integer');
  });
});
