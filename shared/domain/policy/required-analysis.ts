/**
 * Required analysis: the plan must hold an analysis step and at least `minJudgments` judgments in
 * all (each analysis step judges `count` times). The plan is fixed at create, so that is when it is
 * checked; a run is never held for a plan it was allowed to start with.
 */
import type { PolicyInput } from './input.js';
import type { RequiredAnalysisRule, Verdict } from './types.js';
import { allow, notThisMoment, refuse } from './verdict.js';

export function evaluateRequiredAnalysis(rule: RequiredAnalysisRule, input: PolicyInput): Verdict {
  if (input.moment !== 'create') return notThisMoment(rule, 'create', input.moment);
  const terms = `required analysis "${rule.name}" (at least ${rule.minJudgments} judgment${rule.minJudgments === 1 ? '' : 's'})`;
  const analyses = input.deployment.steps.flatMap((step) => (step.kind === 'analysis' ? [step] : []));
  if (analyses.length === 0) return refuse(rule, `${terms}: the plan has no analysis step`);
  const judgments = analyses.reduce((sum, step) => sum + step.count, 0);
  if (judgments < rule.minJudgments) return refuse(rule, `${terms}: the plan's analysis steps judge ${judgments} time${judgments === 1 ? '' : 's'} in all`);
  return allow(rule, `${terms}: the plan judges ${judgments} times`);
}
