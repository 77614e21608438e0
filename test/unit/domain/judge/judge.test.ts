/**
 * The canary judge end to end (shared/domain/judge/index.ts): one metric's classification, the
 * interval it rests on, and the score it gives, for the cases that define Kayenta's judge and the
 * spread-and-tail check that goes beyond it.
 */
import { describe, expect, it } from 'vitest';
import { judge, metricJudgeDefaults, spreadCheckDefaults, type JudgeConfig, type MetricDirection, type MetricJudgeInput, type MetricResult } from '../../../../shared/domain/judge/index.js';
import { gaussianNoise, mulberry32 } from '../../../../shared/domain/judge/random.js';

/** n draws of N(mu, sd) from a seeded generator: the same numbers on every run. */
function normal(seed: number, n: number, mu: number, sd: number): number[] {
  const noise = gaussianNoise(mulberry32(seed));
  return Array.from({ length: n }, () => mu + noise(sd));
}

const THRESHOLDS = { pass: 95, marginal: 75 };

function config(metric: Partial<MetricJudgeInput> = {}, extra: Partial<JudgeConfig> = {}): JudgeConfig {
  return { metrics: [metricJudgeDefaults({ name: 'latency', groups: ['latency'], ...metric })], groupWeights: {}, thresholds: THRESHOLDS, ...extra };
}

function judgeOne(control: number[], experiment: number[], metric: Partial<MetricJudgeInput> = {}, extra: Partial<JudgeConfig> = {}) {
  const result = judge(config(metric, extra), [{ metric: 'latency', control, experiment }]);
  return { result, metric: result.metrics[0]!, score: result.summary.score };
}

function comparisonOf(metric: MetricResult) {
  if (metric.evidence.rule !== 'compared') throw new Error(`expected a comparison, got rule ${metric.evidence.rule}`);
  return metric.evidence.comparison;
}

const BASELINE = normal(1, 200, 100, 5);
const SAME = normal(2, 200, 100, 5);
const UP = normal(3, 200, 130, 5); // +30%
const DOWN = normal(4, 200, 70, 5); // −30%
const ISSUE_6278 = { control: Array<number>(10).fill(1), experiment: [...Array<number>(7).fill(100), 1, 1, 1] };
const SPREAD_ON = { spreadCheck: spreadCheckDefaults() };

describe('judge: one metric, the defining cases', () => {
  it.each<{ why: string; control: number[]; experiment: number[]; direction: MetricDirection; extra?: Partial<JudgeConfig>; label: string; score: number }>([
    { why: 'identical data passes', control: BASELINE, experiment: [...BASELINE].reverse(), direction: 'either', label: 'Pass', score: 100 },
    { why: 'identical data passes with the spread check on', control: BASELINE, experiment: [...BASELINE], direction: 'increase', extra: SPREAD_ON, label: 'Pass', score: 100 },
    { why: 'two samples of one distribution pass', control: BASELINE, experiment: SAME, direction: 'either', label: 'Pass', score: 100 },
    { why: 'two samples of one distribution pass with the spread check on', control: BASELINE, experiment: SAME, direction: 'either', extra: SPREAD_ON, label: 'Pass', score: 100 },
    { why: 'a clear shift up is High when increase is bad', control: BASELINE, experiment: UP, direction: 'increase', label: 'High', score: 0 },
    { why: 'a clear shift up is High when either way is bad', control: BASELINE, experiment: UP, direction: 'either', label: 'High', score: 0 },
    { why: 'a clear shift up passes when only decrease is bad', control: BASELINE, experiment: UP, direction: 'decrease', label: 'Pass', score: 100 },
    { why: 'a clear shift down is Low when decrease is bad', control: BASELINE, experiment: DOWN, direction: 'decrease', label: 'Low', score: 0 },
    { why: 'a clear shift down is Low when either way is bad', control: BASELINE, experiment: DOWN, direction: 'either', label: 'Low', score: 0 },
    { why: 'a clear shift down passes when only increase is bad', control: BASELINE, experiment: DOWN, direction: 'increase', label: 'Pass', score: 100 },
    { why: '#6278 [100×7, 1×3] vs [1×10] passes in Kayenta mode', ...ISSUE_6278, direction: 'increase', label: 'Pass', score: 100 },
    { why: '#6278 fails with the spread check on', ...ISSUE_6278, direction: 'increase', extra: SPREAD_ON, label: 'High', score: 0 },
  ])('$why', ({ control, experiment, direction, extra, label, score }) => {
    const judged = judgeOne(control, experiment, { direction }, extra);

    expect(judged.metric.label).toBe(label);
    expect(judged.score).toBe(score);
    expect(judged.result.summary.classification).toBe(score === 100 ? 'Pass' : 'Fail');
  });

  it('a shift up: the 98% interval holds the true shift (+30) and lies wholly above the tolerance 0.25·|estimate|', () => {
    const { metric } = judgeOne(BASELINE, UP, { direction: 'increase' });
    const { interval, toleranceBound, confidenceLevel, effectSize } = comparisonOf(metric);

    expect(confidenceLevel).toBe(0.98);
    expect(interval.lower).toBeLessThan(30);
    expect(interval.upper).toBeGreaterThan(30);
    expect(Math.abs(interval.estimate - 30)).toBeLessThan(1.5);
    expect(toleranceBound).toBeCloseTo(0.25 * Math.abs(interval.estimate), 12);
    expect(interval.lower).toBeGreaterThan(toleranceBound);
    expect(effectSize).toEqual({ measure: 'meanRatio', value: expect.closeTo(1.3, 1) });
    expect(metric.meanRatio).toBe(effectSize.value);
    expect(metric.reason).toMatch(/^The metric was classified as High: the 98% interval \[[\d.]+, [\d.]+\] of the shift .* above the tolerance/);
  });

  it('a shift down: the interval lies wholly below −bound', () => {
    const { interval, toleranceBound } = comparisonOf(judgeOne(BASELINE, DOWN, { direction: 'decrease' }).metric);

    expect(interval.upper).toBeLessThan(-toleranceBound);
    expect(Math.abs(interval.estimate + 30)).toBeLessThan(1.5);
  });

  it('#6278 in Kayenta mode: est ≈ 99, lo ≈ 7e-5, far under the bound 24.75 it would need to pass', () => {
    const { metric } = judgeOne(ISSUE_6278.control, ISSUE_6278.experiment, { direction: 'increase' });
    const { interval, toleranceBound } = comparisonOf(metric);

    expect(interval.estimate).toBeCloseTo(99, 3);
    expect(interval.lower).toBeGreaterThan(1e-5);
    expect(interval.lower).toBeLessThan(1e-4);
    expect(toleranceBound).toBeCloseTo(24.75, 3);
    expect(metric.evidence).toMatchObject({ rule: 'compared', decidedBy: 'mann-whitney', spread: null });
  });

  it('#6278 with the spread check: High by the check, with its reason and the figures it used', () => {
    const { metric } = judgeOne(ISSUE_6278.control, ISSUE_6278.experiment, { direction: 'increase' }, SPREAD_ON);

    expect(metric.evidence).toMatchObject({
      rule: 'compared',
      decidedBy: 'spread-check',
      spread: {
        outcome: 'fail',
        spreadRatio: null, // baseline IQR 0, canary's 74.25: unbounded
        spreadFailed: true,
        tailRatio: 100,
        tailFailed: true,
        control: { p50: 1, p99: 1, iqr: 0 },
        experiment: { p25: 25.75, p50: 100, p99: 100, iqr: 74.25 },
      },
    });
    expect(metric.reason).toContain('spread and tail check');
    expect(metric.reason).toContain('canary p99 100 against the baseline');
    expect(metric.config.spreadCheck).toEqual(spreadCheckDefaults());
  });

  it('the same judgment twice, or with the pairs listed in another order, is the same result', () => {
    const twoMetrics: JudgeConfig = {
      metrics: [metricJudgeDefaults({ name: 'a', groups: ['g'] }), metricJudgeDefaults({ name: 'b', groups: ['g'] })],
      groupWeights: {},
      thresholds: THRESHOLDS,
    };
    const pairs = [
      { metric: 'a', control: BASELINE, experiment: UP },
      { metric: 'b', control: Array<number>(20).fill(3), experiment: Array<number>(20).fill(4) }, // tie guard: seeded noise
    ];

    const first = judge(twoMetrics, pairs);
    expect(judge(twoMetrics, pairs)).toEqual(first);
    expect(judge(twoMetrics, [...pairs].reverse())).toEqual(first);
    expect(first.metrics.map((m) => m.metric)).toEqual(['a', 'b']);
  });

  it('a result is JSON-safe: every number finite, so storing and reading it back changes nothing', () => {
    const { result } = judgeOne([0, 0, 0], [], { direction: 'increase' }); // means 0 / missing: nulls, not NaN
    const { result: compared } = judgeOne(ISSUE_6278.control, ISSUE_6278.experiment, {}, SPREAD_ON);

    for (const value of [result, compared]) {
      expect(JSON.parse(JSON.stringify(value))).toEqual(value);
      expect(numbersIn(value).every(Number.isFinite)).toBe(true);
    }
    expect(result.metrics[0]).toMatchObject({ label: 'Nodata', meanRatio: null, stats: { experiment: { count: 0, min: null, mean: null, std: null } } });
  });

  it('every result carries the stats of both cleaned series, as Kayenta reports them', () => {
    const { metric } = judgeOne([1, 2, 3, 4, Number.NaN], [2, 4, 6, 8]);

    expect(metric.stats.control).toEqual({ count: 4, min: 1, max: 4, mean: 2.5, std: expect.closeTo(1.2909944487358056, 12) });
    expect(metric.stats.experiment).toEqual({ count: 4, min: 2, max: 8, mean: 5, std: expect.closeTo(2.581988897471611, 12) });
    expect(metric.cleaning.control).toEqual({ received: 5, nanPoints: 1, outliersRemoved: 0, fences: null });
    expect(metric.config).toEqual(metricJudgeDefaults({ name: 'latency', groups: ['latency'] }));
  });

  it('names the rules that decided in every result', () => {
    expect(judgeOne(BASELINE, SAME).result.judge).toMatch(/NetflixACAJudge/);
  });
});

function numbersIn(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap(numbersIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(numbersIn);
  return [];
}
