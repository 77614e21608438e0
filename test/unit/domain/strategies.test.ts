/** Named strategies expand to ordinary steps; the plan hash tells plans apart and ignores key order. */
import { describe, expect, it } from 'vitest';
import type { Step } from '../../../shared/domain/deployment.js';
import { planHash } from '../../../shared/domain/plan-hash.js';
import { DEFAULT_STRATEGY_PAUSE, STRATEGY_NAMES, strategySteps } from '../../../shared/domain/strategies.js';
import { validationErrorOf } from '../../support/errors.js';

const analysis = { template: 'http-golden-signals', interval: '1m', count: 3 };

describe('strategySteps', () => {
  it('canary-5-25-50-100: four traffic steps with a pause between each', () => {
    expect(strategySteps('canary-5-25-50-100', undefined)).toEqual([
      { setWeight: 5 },
      { pause: { duration: DEFAULT_STRATEGY_PAUSE } },
      { setWeight: 25 },
      { pause: { duration: DEFAULT_STRATEGY_PAUSE } },
      { setWeight: 50 },
      { pause: { duration: DEFAULT_STRATEGY_PAUSE } },
      { setWeight: 100 },
    ]);
  });

  it('with an analysis, the analysis stands between the traffic steps instead of a pause', () => {
    const steps = strategySteps('canary-5-25-50-100', analysis);
    expect(steps.filter((s) => 'analysis' in s)).toHaveLength(3);
    expect(steps.some((s) => 'pause' in s)).toBe(false);
    expect(steps.at(-1)).toEqual({ setWeight: 100 });
  });

  it('linear-10: ten steps of 10% up to 100%', () => {
    const weights = strategySteps('linear-10', undefined).flatMap((s) => ('setWeight' in s ? [s.setWeight] : []));
    expect(weights).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it('blue-green: the new version at 0%, a manual gate, then all of it', () => {
    expect(strategySteps('blue-green', undefined)).toEqual([{ setWeight: 0 }, { pause: {} }, { setWeight: 100 }]);
  });

  it.each(STRATEGY_NAMES)('%s ends at 100% and never goes down', (name) => {
    const weights = strategySteps(name, undefined).flatMap((s) => ('setWeight' in s ? [s.setWeight] : []));
    expect(weights.at(-1)).toBe(100);
    expect(weights).toEqual([...weights].sort((a, b) => a - b));
  });

  it('an unknown name is a ValidationError naming strategy and the names there are', () => {
    const error = validationErrorOf(() => strategySteps('linear-7', undefined));
    expect(error).toMatchObject({ field: 'strategy', rule: 'known-strategy' });
    expect(error.message).toContain('canary-5-25-50-100');
  });
});

describe('planHash', () => {
  const plan: Step[] = [
    { kind: 'setWeight', canaryPercent: 5, wave: null },
    { kind: 'pause', durationSeconds: 60 },
  ];

  it('is stable and does not depend on key order', () => {
    const reordered = [
      { wave: null, canaryPercent: 5, kind: 'setWeight' },
      { durationSeconds: 60, kind: 'pause' },
    ] as Step[];
    expect(planHash(plan)).toBe(planHash(reordered));
    expect(planHash(plan)).toMatch(/^plan_[0-9a-f]{16}$/);
  });

  it('changes with any step', () => {
    expect(planHash(plan)).not.toBe(planHash([plan[0]!, { kind: 'pause', durationSeconds: 61 }]));
    expect(planHash(plan)).not.toBe(planHash([plan[0]!]));
  });
});
