/**
 * One metric's rules, in Kayenta's order (shared/domain/judge/classify-metric.ts): no data, the
 * shortcuts, the tie guard, the effect-size gate, critical escalation, errors, and cleaning.
 */
import { describe, expect, it } from 'vitest';
import { classifyMetric, type ClassifyOptions } from '../../../../shared/domain/judge/classify-metric.js';
import { metricJudgeDefaults, type MetricJudgeInput } from '../../../../shared/domain/judge/config.js';
import { cles, meanRatio } from '../../../../shared/domain/judge/effect-size.js';
import { gaussianNoise, mulberry32 } from '../../../../shared/domain/judge/random.js';
import type { MetricResult } from '../../../../shared/domain/judge/results.js';

function normal(seed: number, n: number, mu: number, sd: number): number[] {
  const noise = gaussianNoise(mulberry32(seed));
  return Array.from({ length: n }, () => mu + noise(sd));
}

const KAYENTA: ClassifyOptions = { spreadCheck: null };

function classify(control: number[], experiment: number[], metric: Partial<MetricJudgeInput> = {}, options: ClassifyOptions = KAYENTA): MetricResult {
  return classifyMetric(metricJudgeDefaults({ name: 'm', groups: ['g'], ...metric }), control, experiment, options);
}

function comparisonOf(result: MetricResult) {
  if (result.evidence.rule !== 'compared') throw new Error(`expected a comparison, got rule ${result.evidence.rule}`);
  return result.evidence.comparison;
}

const BASELINE = normal(11, 200, 100, 5);
const UP_30 = normal(12, 200, 130, 5);

describe('no data', () => {
  it.each([
    { why: 'remove (default): Nodata, not critical', metric: {}, label: 'Nodata', critical: false },
    { why: 'remove, critical: Nodata, critical (fails the canary)', metric: { critical: true }, label: 'Nodata', critical: true },
    { why: 'remove, mustHaveData: NodataFailMetric, not critical', metric: { mustHaveData: true }, label: 'NodataFailMetric', critical: false },
    { why: 'remove, mustHaveData and critical: Nodata, critical', metric: { mustHaveData: true, critical: true }, label: 'Nodata', critical: true },
    { why: 'replace: Pass, whatever the flags', metric: { nanStrategy: 'replace' as const, mustHaveData: true, critical: true }, label: 'Pass', critical: false },
  ])('$why', ({ metric, label, critical }) => {
    const result = classify([1, 2, 3], [], metric);

    expect(result).toMatchObject({ label, critical, evidence: { rule: 'no-data' } });
    expect(result.reason).toContain('canary has no data');
  });

  it('all-NaN series are empty once NaNs are removed', () => {
    expect(classify([Number.NaN, Number.NaN], [1, 2], {}).label).toBe('Nodata');
  });

  it('nanStrategy replace turns NaN into 0: an all-NaN pair is two series of zeros, identical, Pass', () => {
    const result = classify([Number.NaN, Number.NaN, Number.NaN], [Number.NaN, Number.NaN, Number.NaN], { nanStrategy: 'replace' });

    expect(result).toMatchObject({ label: 'Pass', evidence: { rule: 'identical' }, stats: { control: { count: 3, mean: 0 } } });
    expect(result.cleaning.control.nanPoints).toBe(3);
  });

  it('nanStrategy replace counts missing error counts as zeros, so a canary with errors where the baseline had gaps is High', () => {
    const control = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? Number.NaN : 0));
    const experiment = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 5 : 4));

    expect(classify(control, experiment, { nanStrategy: 'replace', direction: 'increase' })).toMatchObject({ label: 'High', stats: { control: { count: 60, max: 0 } } });
    expect(classify(control, experiment, { nanStrategy: 'remove', direction: 'increase' })).toMatchObject({ label: 'High', stats: { control: { count: 40 } } });
  });
});

describe('shortcuts before the test', () => {
  it('one distinct value across both series passes (different lengths, so not "identical")', () => {
    expect(classify([7, 7, 7], [7, 7])).toMatchObject({ label: 'Pass', evidence: { rule: 'single-value' }, meanRatio: 1 });
  });
});

describe('the tie guard', () => {
  it('two constant series of different values get noise of σ = value·1e-5 from the given source, then the test runs', () => {
    const sigmas: number[] = [];
    const noise = (sigma: number) => {
      sigmas.push(sigma);
      return sigmas.length % 2 === 0 ? sigma : -sigma;
    };
    const result = classify(Array(10).fill(1), Array(10).fill(2), { direction: 'increase' }, { spreadCheck: null, noise });

    expect(sigmas).toEqual([...Array(10).fill(2e-5), ...Array(10).fill(1e-5)]); // experiment first, then control
    expect(result).toMatchObject({ label: 'High', evidence: { rule: 'compared', comparison: { tieNoiseAdded: true } } });
    expect(comparisonOf(result).interval.estimate).toBeCloseTo(1, 3);
    expect(result.stats.experiment).toMatchObject({ min: 2, max: 2, std: 0 }); // stats are of the data, not the noise
  });

  it('by default the noise is seeded from the data: the same inputs give the same interval', () => {
    const first = classify(Array(10).fill(1), Array(10).fill(2));
    const again = classify(Array(10).fill(1), Array(10).fill(2));

    expect(again).toEqual(first);
    expect(comparisonOf(first).tieNoiseAdded).toBe(true);
  });
});

describe('the effect-size gate', () => {
  const control = normal(21, 2000, 100, 1);
  const experiment = normal(22, 2000, 100.2, 1); // +0.2%: certain with 2,000 points, and tiny

  it('with Kayenta’s default limit (meanRatio ≥ 1.0) a significant 0.2% shift is High', () => {
    const result = classify(control, experiment, { direction: 'increase' });

    expect(result.label).toBe('High');
    expect(comparisonOf(result).interval.lower).toBeGreaterThan(comparisonOf(result).toleranceBound);
  });

  it('allowedIncrease 1.01 blocks it: the interval is beyond the band, but the ratio is within the limit', () => {
    const result = classify(control, experiment, { direction: 'increase', effectSize: { allowedIncrease: 1.01 } });

    expect(result.label).toBe('Pass');
    expect(result.reason).toMatch(/lies above the tolerance .* but meanRatio 1\.002 is within the allowed increase 1\.01/);
  });

  it('the common-language effect size (cles) gates the same way', () => {
    const separated = classify(
      Array.from({ length: 50 }, (_, i) => i + 1),
      Array.from({ length: 50 }, (_, i) => i + 101),
      { direction: 'increase', effectSize: { measure: 'cles' } },
    );
    expect(separated).toMatchObject({ label: 'High', evidence: { comparison: { effectSize: { measure: 'cles', value: 1 } } } });
    expect(separated.config.effectSize).toEqual({ measure: 'cles', allowedIncrease: 0.5, allowedDecrease: 0.5, criticalIncrease: 0.5, criticalDecrease: 0.5 });

    const blocked = classify(control, experiment, { direction: 'increase', effectSize: { measure: 'cles', allowedIncrease: 0.6 } });
    expect(blocked.label).toBe('Pass'); // P(canary > baseline) ≈ 0.56 for a 0.2σ shift
    expect(comparisonOf(blocked).effectSize.value).toBeCloseTo(0.556, 1);
    expect(blocked.meanRatio).toBeCloseTo(1.002, 3); // the report's ratio is always the mean ratio
  });

  it('cles is P(x > y) + ½·P(tie); meanRatio is undefined (NaN) when a mean is 0', () => {
    expect(cles([1, 2, 3], [2, 2])).toBe(0.5);
    expect(cles([3, 4], [1, 2])).toBe(1);
    expect(meanRatio([1, 2], [0, 0])).toBeNaN();
  });

  it('an undefined effect (mean 0) skips the gate, as Kayenta does', () => {
    const result = classify(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? -1 : 1)), Array.from({ length: 30 }, (_, i) => 10 + (i % 3)), {
      direction: 'increase',
      effectSize: { allowedIncrease: 1000 },
    });

    expect(result).toMatchObject({ label: 'High', meanRatio: null, evidence: { comparison: { effectSize: { value: null } } } });
  });
});

describe('critical escalation', () => {
  it('a critical metric failing beyond criticalIncrease is a critical High', () => {
    expect(classify(BASELINE, UP_30, { critical: true, effectSize: { criticalIncrease: 1.2 } })).toMatchObject({ label: 'High', critical: true });
  });

  it('between allowedIncrease and criticalIncrease it fails, but not critically', () => {
    const result = classify(BASELINE, UP_30, { critical: true, effectSize: { allowedIncrease: 1.1, criticalIncrease: 1.5 } });

    expect(result).toMatchObject({ label: 'High', critical: false });
    expect(result.reason).toContain('within its critical limit');
  });

  it('a Low on a critical metric uses criticalDecrease', () => {
    const down = normal(13, 200, 70, 5);
    expect(classify(BASELINE, down, { critical: true, effectSize: { criticalDecrease: 0.8 } })).toMatchObject({ label: 'Low', critical: true });
    expect(classify(BASELINE, down, { critical: true, effectSize: { criticalDecrease: 0.5 } })).toMatchObject({ label: 'Low', critical: false });
  });
});

describe('errors', () => {
  it('a series holding an infinite value (a provider\'s "+Inf") is Error, and never critical', () => {
    const result = classify([1, 2, 3, 4], [1, 2, Number.POSITIVE_INFINITY], { critical: true });

    expect(result).toMatchObject({ label: 'Error', critical: false, evidence: { rule: 'error', message: 'the canary holds an infinite value' } });
    expect(result.reason).toBe('Metric classification failed: the canary holds an infinite value');
    expect(result.stats.experiment).toMatchObject({ count: 3, max: null, mean: null });
  });

  it('with outlier removal too: no fences are drawn around an infinity, and the result stays JSON-safe', () => {
    const result = classify([Number.NEGATIVE_INFINITY, 1, 2, 3], [1, 2, 3, 4], { outliers: { strategy: 'remove' } });

    expect(result).toMatchObject({ label: 'Error', evidence: { message: 'the baseline holds an infinite value' }, cleaning: { control: { fences: null, outliersRemoved: 0 } } });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});

describe('outliers', () => {
  // A 10% slowdown, and one 10,000 ms spike in the baseline that drags its mean up by half.
  const control = [...normal(31, 199, 100, 5), 10_000];
  const experiment = normal(32, 200, 110, 5);
  const gate = { direction: 'increase' as const, effectSize: { allowedIncrease: 1.05 } };

  it('kept (default), the spike hides the slowdown from the mean-ratio gate', () => {
    const result = classify(control, experiment, gate);

    expect(result.label).toBe('Pass');
    expect(result.meanRatio).toBeLessThan(0.8);
  });

  it('removed, the fences drop the spike and the slowdown is High', () => {
    const result = classify(control, experiment, { ...gate, outliers: { strategy: 'remove' } });

    expect(result.label).toBe('High');
    expect(result.meanRatio).toBeCloseTo(1.1, 1);
    expect(result.cleaning.control).toMatchObject({ received: 200, outliersRemoved: 1 });
    expect(result.cleaning.control.fences!.upper).toBeLessThan(10_000);
    expect(result.stats.control.max).toBeLessThan(200);
  });

  it('reduced sensitivity: the fences are never inside P1/P99, so 2% of spikes stay, on either side', () => {
    const high = [...normal(33, 196, 100, 5), 10_000, 10_000, 10_000, 10_000];
    const low = [...normal(34, 196, 100, 5), 0, 0, 0, 0];
    expect(classify(high, experiment, { outliers: { strategy: 'remove' } }).cleaning.control.outliersRemoved).toBe(0);
    expect(classify(low, experiment, { outliers: { strategy: 'remove' } }).cleaning.control).toMatchObject({ outliersRemoved: 0, fences: { lower: 0 } });
    // One zero among 200 is under 1%: the IQR fence (about 100 − 4·IQR) drops it.
    expect(classify([...normal(35, 199, 100, 5), 0], experiment, { outliers: { strategy: 'remove' } }).cleaning.control.outliersRemoved).toBe(1);
  });
});
