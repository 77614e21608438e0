/**
 * Long runs within Step Functions' quotas: a Standard execution records at most 25,000 history
 * events. Counted from the definition and the lifecycle (test/support/step-functions-history.ts):
 * the longest plan the API accepts (50 steps, 24 h pauses, analyses of 100 judgments) runs in
 * executions that each stay under the limit — even were every retry of every loop exhausted —
 * because the definition continues as a new execution past its loop bound. A 24 h pause is one
 * hold, whatever its length. The cost of a 24 h canary in state transitions is printed (the note of
 * issue 8 reports it; `npm run bench canary/history` prints the same table).
 */
import { describe, expect, it } from 'vitest';
import type { AnalysisTemplate } from '../../../shared/domain/analysis.js';
import type { Step } from '../../../shared/domain/deployment.js';
import { canaryDefinition } from '../../../shared/workflow/definition.js';
import { HISTORY_EVENT_LIMIT, historyOfRun, loopBound, worstEventsPerLoop, worstOverhead } from '../../support/step-functions-history.js';

const TEMPLATE: AnalysisTemplate = {
  name: 't',
  stepSeconds: 10,
  thresholds: { pass: 95, marginal: 75 },
  groupWeights: {},
  metrics: [{ name: 'm', group: 'g', provider: 'p', query: 'q{version="{{version}}"}', direction: 'increase', critical: false, noData: 'fail', spreadCheck: false }],
};
const DAY = 86_400;
const analysis = (count: number, intervalSeconds: number): Step => ({ kind: 'analysis', template: TEMPLATE, intervalSeconds, count });
const pause = (durationSeconds: number | null): Step => ({ kind: 'pause', durationSeconds });
const setWeight = (canaryPercent: number): Step => ({ kind: 'setWeight', canaryPercent, wave: null });

/** The longest plans the API accepts (steps ≤ 50, a pause ≤ 24 h, an analysis ≤ 100 judgments of ≤ 1 h). */
const LONGEST: { name: string; steps: Step[] }[] = [
  { name: '50 analyses of 100 one-hour judgments', steps: Array.from({ length: 50 }, () => analysis(100, 3600)) },
  { name: '50 pauses of 24 h', steps: Array.from({ length: 50 }, () => pause(DAY)) },
  {
    name: '17 × (setWeight, 24 h pause, 100 judgments), cut at 50 steps',
    steps: Array.from({ length: 17 }, (_, i) => [setWeight(Math.min(100, (i + 1) * 6)), pause(DAY), analysis(100, 3600)]).flat().slice(0, 50),
  },
];

describe('history budget of the canary state machine', () => {
  const definition = canaryDefinition();
  const bound = loopBound(definition);
  const worstLoop = worstEventsPerLoop(definition);

  it('the loop bound keeps an execution under 25,000 events even with every retry of every loop exhausted', () => {
    const worst = bound * worstLoop + worstOverhead(definition);
    console.log(`loop bound ${bound}, worst events per loop ${worstLoop}: at most ${worst} events per execution (limit ${HISTORY_EVENT_LIMIT})`);
    expect(worst).toBeLessThan(HISTORY_EVENT_LIMIT);
  });

  it.each(LONGEST)('$name: every execution stays under the limit, the run continuing as new executions', ({ steps }) => {
    expect(steps.length).toBeLessThanOrEqual(50);
    const run = historyOfRun(definition, steps);

    for (const execution of run.executions) {
      expect(execution.events).toBeLessThan(HISTORY_EVENT_LIMIT);
      expect(execution.worstEvents).toBeLessThan(HISTORY_EVENT_LIMIT);
      expect(execution.loops).toBeLessThanOrEqual(bound);
    }
    const loops = run.executions.reduce((sum, e) => sum + e.loops, 0);
    // Continuations counted: one more execution per `bound` loops.
    expect(run.executions.length).toBe(Math.ceil(loops / bound));
    const analyses = steps.filter((s) => s.kind === 'analysis').length;
    expect(run.judgments).toBe(analyses * 100);
  });

  it('a 24 h pause is one hold: a few events and transitions, not one loop every few seconds', () => {
    const oneDay = historyOfRun(definition, [setWeight(10), pause(DAY), setWeight(100)]);
    const oneMinute = historyOfRun(definition, [setWeight(10), pause(60), setWeight(100)]);
    expect(oneDay.holds).toBe(1);
    expect(oneDay.transitions).toBe(oneMinute.transitions);
    expect(oneDay.executions).toHaveLength(1);
  });

  it('the cost of a 24 h canary (1,440 one-minute judgments over 15 steps of traffic), reported', () => {
    const steps = Array.from({ length: 15 }, (_, i) => [setWeight(Math.round(((i + 1) * 100) / 15)), analysis(96, 60)]).flat();
    const run = historyOfRun(definition, steps);
    expect(run.judgments).toBe(1440);
    const events = run.executions.reduce((sum, e) => sum + e.events, 0);
    console.log(`24 h canary: ${run.judgments} judgments, ${run.holds} holds, ${run.executions.length} executions, ${events} events, ${run.transitions} state transitions (Standard: $${((run.transitions / 1000) * 0.025).toFixed(3)} at $0.025 per 1,000)`);
    expect(run.executions.every((e) => e.worstEvents < HISTORY_EVENT_LIMIT)).toBe(true);
  });
});
