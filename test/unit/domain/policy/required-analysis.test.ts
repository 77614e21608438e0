/** Required analysis (shared/domain/policy/required-analysis.ts): judgments are counted over every analysis step's `count`. */
import { describe, expect, it } from 'vitest';
import { evaluateRequiredAnalysis } from '../../../../shared/domain/policy/required-analysis.js';
import type { RequiredAnalysisRule } from '../../../../shared/domain/policy/types.js';
import { analysis, policyInput, weight } from '../../../support/policy-inputs.js';

const rule = (minJudgments: number): RequiredAnalysisRule => ({ name: 'prod-analysis', kind: 'required-analysis', services: ['*'], environments: ['prod'], minJudgments });

describe('evaluateRequiredAnalysis at create', () => {
  it.each([
    { case: 'no analysis step', min: 1, steps: [weight(10), weight(100)], allowed: false, reason: 'the plan has no analysis step' },
    { case: 'an empty plan', min: 1, steps: [], allowed: false, reason: 'the plan has no analysis step' },
    { case: 'one step judging 3 times, 3 required', min: 3, steps: [weight(10), analysis(3)], allowed: true, reason: 'the plan judges 3 times' },
    { case: 'one step judging 3 times, 4 required', min: 4, steps: [weight(10), analysis(3)], allowed: false, reason: "the plan's analysis steps judge 3 times in all" },
    { case: 'two steps judging 2 + 3, 5 required', min: 5, steps: [analysis(2), weight(50), analysis(3)], allowed: true, reason: 'the plan judges 5 times' },
    { case: 'two steps judging 1 + 1, 3 required', min: 3, steps: [analysis(1), analysis(1)], allowed: false, reason: 'judge 2 times in all' },
    { case: 'one judgment, 2 required', min: 2, steps: [analysis(1)], allowed: false, reason: 'judge 1 time in all' },
  ])('$case → allowed: $allowed', ({ min, steps, allowed, reason }) => {
    const verdict = evaluateRequiredAnalysis(rule(min), policyInput({ deployment: { steps } }));
    expect(verdict).toMatchObject({ rule: 'prod-analysis', kind: 'required-analysis', allowed, nextAllowedAt: null });
    expect(verdict.reason).toContain(`required analysis "prod-analysis" (at least ${min} judgment`);
    expect(verdict.reason).toContain(reason);
  });

  it.each(['step', 'promote'] as const)('at %s the plan is not judged again (a run is never held for the plan it started with)', (moment) => {
    expect(evaluateRequiredAnalysis(rule(1), policyInput({ moment, deployment: { steps: [weight(100)] } })).allowed).toBe(true);
  });
});
