/** Kayenta's defaults and the configuration checks (shared/domain/judge/config.ts), through judge(). */
import { describe, expect, it } from 'vitest';
import { judge, metricJudgeDefaults, spreadCheckDefaults, spreadCheckFor, type JudgeConfig } from '../../../../shared/domain/judge/index.js';
import { validationErrorOf } from '../../../support/errors.js';

const THRESHOLDS = { pass: 95, marginal: 75 };

function base(overrides: Partial<JudgeConfig> = {}): JudgeConfig {
  return {
    metrics: [metricJudgeDefaults({ name: 'latency', groups: ['latency'] }), metricJudgeDefaults({ name: 'errors', groups: ['errors'] })],
    groupWeights: {},
    thresholds: THRESHOLDS,
    ...overrides,
  };
}

describe('metricJudgeDefaults', () => {
  it("fills Kayenta's defaults", () => {
    expect(metricJudgeDefaults({ name: 'latency', groups: ['latency'] })).toEqual({
      name: 'latency',
      groups: ['latency'],
      direction: 'either',
      critical: false,
      mustHaveData: false,
      muted: false,
      nanStrategy: 'remove',
      effectSize: { measure: 'meanRatio', allowedIncrease: 1, allowedDecrease: 1, criticalIncrease: 1, criticalDecrease: 1 },
      outliers: { strategy: 'keep', factor: 3 },
    });
  });

  it('cles limits default to 0.5; given values are kept; a partial spread check gets its defaults', () => {
    const metric = metricJudgeDefaults({ name: 'm', groups: ['g'], effectSize: { measure: 'cles', criticalIncrease: 0.9 }, outliers: { strategy: 'remove' }, spreadCheck: { maxTailRatio: 2 } });

    expect(metric.effectSize).toEqual({ measure: 'cles', allowedIncrease: 0.5, allowedDecrease: 0.5, criticalIncrease: 0.9, criticalDecrease: 0.5 });
    expect(metric.outliers).toEqual({ strategy: 'remove', factor: 3 });
    expect(metric.spreadCheck).toEqual({ ...spreadCheckDefaults(), maxTailRatio: 2, criticalTailRatio: 2 });
  });
});

describe('spreadCheckFor', () => {
  it("a metric's own check wins over the judge's; disabled or absent means Kayenta's rules only", () => {
    const own = spreadCheckDefaults({ maxSpreadRatio: 3 });
    const judgeLevel = spreadCheckDefaults();
    const plain = metricJudgeDefaults({ name: 'a', groups: ['g'] });

    expect(spreadCheckFor({ ...plain, spreadCheck: own }, base({ spreadCheck: judgeLevel }))).toBe(own);
    expect(spreadCheckFor(plain, base({ spreadCheck: judgeLevel }))).toBe(judgeLevel);
    expect(spreadCheckFor({ ...plain, spreadCheck: spreadCheckDefaults({ enabled: false }) }, base({ spreadCheck: judgeLevel }))).toBeNull();
    expect(spreadCheckFor(plain, base())).toBeNull();
  });
});

describe('validateJudgeConfig (run by judge)', () => {
  it.each<{ why: string; config: JudgeConfig; field: string; rule: string }>([
    { why: 'weights adding up to more than 100', config: base({ groupWeights: { latency: 70, errors: 40 } }), field: 'groupWeights', rule: 'weights-at-most-100' },
    { why: 'a weight for a group no metric has', config: base({ groupWeights: { latncy: 50 } }), field: 'groupWeights.latncy', rule: 'group-known' },
    { why: 'every group weighted, but not to 100', config: base({ groupWeights: { latency: 50, errors: 40 } }), field: 'groupWeights', rule: 'weights-add-up-to-100' },
    { why: 'a negative weight', config: base({ groupWeights: { latency: -10 } }), field: 'groupWeights.latency', rule: 'non-negative' },
    {
      why: 'a weight for a group whose metrics are all muted',
      config: base({ metrics: [metricJudgeDefaults({ name: 'a', groups: ['x'] }), metricJudgeDefaults({ name: 'b', groups: ['y'], muted: true })], groupWeights: { y: 20 } }),
      field: 'groupWeights.y',
      rule: 'group-scored',
    },
    { why: 'no metrics', config: base({ metrics: [] }), field: 'metrics', rule: 'metrics-present' },
    { why: 'a metric twice', config: base({ metrics: [metricJudgeDefaults({ name: 'a', groups: ['g'] }), metricJudgeDefaults({ name: 'a', groups: ['g'] })] }), field: 'metrics[1].name', rule: 'metric-unique' },
    { why: 'a metric in no group', config: base({ metrics: [metricJudgeDefaults({ name: 'a', groups: [] })] }), field: 'metrics[0].groups', rule: 'groups-present' },
    { why: 'an unknown direction', config: base({ metrics: [{ ...metricJudgeDefaults({ name: 'a', groups: ['g'] }), direction: 'up' as never }] }), field: 'metrics[0].direction', rule: 'one-of' },
    { why: 'an unknown effect-size measure', config: base({ metrics: [metricJudgeDefaults({ name: 'a', groups: ['g'], effectSize: { measure: 'cohen' as never } })] }), field: 'metrics[0].effectSize.measure', rule: 'one-of' },
    { why: 'a NaN limit', config: base({ metrics: [metricJudgeDefaults({ name: 'a', groups: ['g'], effectSize: { allowedIncrease: Number.NaN } })] }), field: 'metrics[0].effectSize.allowedIncrease', rule: 'finite' },
    { why: 'marginal above pass', config: base({ thresholds: { pass: 70, marginal: 80 } }), field: 'thresholds.marginal', rule: 'marginal-at-most-pass' },
    { why: 'a threshold above 100', config: base({ thresholds: { pass: 101, marginal: 80 } }), field: 'thresholds.pass', rule: 'threshold-range' },
    { why: 'a spread ratio below 1', config: base({ spreadCheck: spreadCheckDefaults({ maxSpreadRatio: 0.5 }) }), field: 'spreadCheck.maxSpreadRatio', rule: 'ratio-at-least-1' },
    { why: 'a critical tail ratio below the max', config: base({ spreadCheck: spreadCheckDefaults({ maxTailRatio: 2, criticalTailRatio: 1.5 }) }), field: 'spreadCheck.criticalTailRatio', rule: 'critical-at-least-max' },
  ])('refuses $why (field $field)', ({ config, field, rule }) => {
    const error = validationErrorOf(() => judge(config, []));

    expect({ field: error.field, rule: error.rule }).toEqual({ field, rule });
  });

  it('accepts weights up to 100 with unweighted groups sharing the rest, and weights of exactly 100', () => {
    expect(() => judge(base({ groupWeights: { latency: 100 } }), [])).not.toThrow();
    expect(() => judge(base({ groupWeights: { latency: 60, errors: 40 } }), [])).not.toThrow();
  });

  it('refuses a pair for an unknown metric and two pairs for one metric; a metric without a pair has no data', () => {
    expect(validationErrorOf(() => judge(base(), [{ metric: 'cpu', control: [1], experiment: [1] }])).rule).toBe('metric-known');
    expect(validationErrorOf(() => judge(base(), [{ metric: 'errors', control: [1], experiment: [1] }, { metric: 'errors', control: [1], experiment: [1] }])).rule).toBe('pair-unique');

    const result = judge(base(), [{ metric: 'errors', control: [1, 2], experiment: [1, 2] }]);
    expect(result.metrics.map((m) => [m.metric, m.label])).toEqual([
      ['latency', 'Nodata'],
      ['errors', 'Pass'],
    ]);
  });
});
