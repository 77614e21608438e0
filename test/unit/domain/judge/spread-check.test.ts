/**
 * The spread-and-tail check (shared/domain/judge/spread-check.ts), beyond Kayenta: it catches a
 * canary whose distribution got wider or whose bad tail got worse while its location, as
 * Mann-Whitney sees it, did not move enough (spinnaker/kayenta#780, spinnaker/spinnaker#6278).
 */
import { describe, expect, it } from 'vitest';
import { classifyMetric } from '../../../../shared/domain/judge/classify-metric.js';
import { metricJudgeDefaults, spreadCheckDefaults, type MetricJudgeInput } from '../../../../shared/domain/judge/config.js';
import { gaussianNoise, mulberry32 } from '../../../../shared/domain/judge/random.js';
import type { MetricResult, SpreadCheckResult } from '../../../../shared/domain/judge/results.js';
import { runSpreadCheck } from '../../../../shared/domain/judge/spread-check.js';

function normal(seed: number, n: number, mu: number, sd: number): number[] {
  const noise = gaussianNoise(mulberry32(seed));
  return Array.from({ length: n }, () => mu + noise(sd));
}

const DEFAULTS = spreadCheckDefaults();

function classify(control: number[], experiment: number[], metric: Partial<MetricJudgeInput> = {}, check = DEFAULTS): MetricResult {
  return classifyMetric(metricJudgeDefaults({ name: 'm', groups: ['g'], ...metric }), control, experiment, { spreadCheck: check });
}

function ran(result: SpreadCheckResult | null): Extract<SpreadCheckResult, { outcome: 'pass' | 'fail' }> {
  if (!result || result.outcome === 'skipped') throw new Error('expected the spread check to have run');
  return result;
}

const BASELINE = normal(41, 1000, 100, 5);
/** Same median, variability ×4: Mann-Whitney sees no shift. */
const WIDER = normal(42, 1000, 100, 20);
/** 3% of requests 5× slower: the median barely moves. */
const BAD_TAIL = normal(43, 1000, 100, 5).map((v, i) => (i % 33 === 0 ? v * 5 : v));

describe('spread and tail check', () => {
  it('has documented defaults: IQR ratio ≤ 2, p99 ratio ≤ 1.5, at least 10 points, critical limits = the max ones', () => {
    expect(DEFAULTS).toEqual({ enabled: true, measure: 'iqr', maxSpreadRatio: 2, tailPercentile: 99, maxTailRatio: 1.5, criticalSpreadRatio: 2, criticalTailRatio: 1.5, minPoints: 10 });
  });

  it.each([
    { why: 'a 4× wider canary with the same median: Mann-Whitney passes it, the check fails it', experiment: WIDER, direction: 'increase' as const, label: 'High', spreadFailed: true, tailFailed: false },
    { why: 'a 4× wider canary, direction decrease: Low, and its p1 is ≈ 1.65× lower too', experiment: WIDER, direction: 'decrease' as const, label: 'Low', spreadFailed: true, tailFailed: true },
    { why: '3% of points 5× slower: p99 is 4× the baseline’s', experiment: BAD_TAIL, direction: 'increase' as const, label: 'High', spreadFailed: false, tailFailed: true },
    { why: 'the same slow tail on a metric where only decrease is bad passes', experiment: BAD_TAIL, direction: 'decrease' as const, label: 'Pass', spreadFailed: false, tailFailed: false },
  ])('$why', ({ experiment, direction, label, spreadFailed, tailFailed }) => {
    const kayenta = classifyMetric(metricJudgeDefaults({ name: 'm', groups: ['g'], direction }), BASELINE, experiment, { spreadCheck: null });
    expect(kayenta.label).toBe('Pass');

    const result = classify(BASELINE, experiment, { direction });
    const check = ran(result.evidence.rule === 'compared' ? result.evidence.spread : null);
    expect(result.label).toBe(label);
    expect({ spreadFailed: check.spreadFailed, tailFailed: check.tailFailed }).toEqual({ spreadFailed, tailFailed });
    if (label !== 'Pass') expect(result.evidence).toMatchObject({ decidedBy: 'spread-check' });
  });

  it('records the figures it compared: percentiles per series and both ratios', () => {
    const check = ran(runSpreadCheck(DEFAULTS, 'increase', false, BASELINE, BAD_TAIL));

    expect(check.control.p99).toBeGreaterThan(check.control.p50);
    expect(check.tailRatio).toBeCloseTo(check.experiment.p99 / check.control.p99, 12);
    expect(check.spreadRatio).toBeCloseTo(check.experiment.iqr / check.control.iqr, 12);
    expect(check.control.tailHigh).toBe(check.control.p99);
    expect(check.reason).toMatch(/canary p99 [\d.]+ against the baseline's [\d.]+ on the high tail \(ratio [\d.]+×, limit 1\.5×\)/);
  });

  it('a spread that grew only on the good side is no regression: #6278 data on a decrease metric passes', () => {
    const check = ran(runSpreadCheck(DEFAULTS, 'decrease', false, Array(10).fill(1), [...Array(7).fill(100), 1, 1, 1]));

    expect(check).toMatchObject({ outcome: 'pass', spreadRatio: null, spreadFailed: false, tailFailed: false });
  });

  it('either: the side whose tail got worse names the label', () => {
    const lowTail = normal(44, 1000, 100, 5).map((v, i) => (i % 33 === 0 ? v / 5 : v));
    expect(ran(runSpreadCheck(DEFAULTS, 'either', false, BASELINE, lowTail))).toMatchObject({ outcome: 'fail', label: 'Low', tailFailed: true });
    expect(ran(runSpreadCheck(DEFAULTS, 'either', false, BASELINE, BAD_TAIL))).toMatchObject({ outcome: 'fail', label: 'High', tailFailed: true });
  });

  it('std instead of IQR, and looser limits, are configuration', () => {
    expect(ran(runSpreadCheck(spreadCheckDefaults({ measure: 'std' }), 'increase', false, BASELINE, BAD_TAIL)).spreadFailed).toBe(true); // the slow 3% triple the std
    expect(ran(runSpreadCheck(spreadCheckDefaults({ maxTailRatio: 5 }), 'increase', false, BASELINE, BAD_TAIL)).outcome).toBe('pass');
  });

  it('two constant series: spread 0/0 counts as unchanged, the tail decides', () => {
    expect(ran(runSpreadCheck(DEFAULTS, 'increase', false, Array(10).fill(1), Array(10).fill(1.2)))).toMatchObject({ spreadRatio: 1, tailRatio: expect.closeTo(1.2, 12), outcome: 'pass' });
  });

  it('does not run on fewer than minPoints points in a series', () => {
    expect(runSpreadCheck(DEFAULTS, 'increase', false, [1, 2, 3], [100, 200, 300])).toMatchObject({ outcome: 'skipped', reason: expect.stringContaining('fewer than 10 points') });
  });

  it('never runs on identical data, which passes', () => {
    expect(classify(WIDER, [...WIDER].reverse())).toMatchObject({ label: 'Pass', evidence: { rule: 'identical' } });
  });

  it('keeps Mann-Whitney’s High and its reason when the test already failed the metric', () => {
    const result = classify(BASELINE, normal(45, 1000, 150, 40), { direction: 'increase' });

    expect(result.evidence).toMatchObject({ decidedBy: 'mann-whitney', spread: { outcome: 'fail' } });
    expect(result.reason).toMatch(/^The metric was classified as High: the 98% interval/);
  });

  it('on a critical metric a failure is critical from the critical limits (by default the max ones)', () => {
    expect(classify(BASELINE, BAD_TAIL, { critical: true, direction: 'increase' })).toMatchObject({ label: 'High', critical: true });
    expect(classify(BASELINE, BAD_TAIL, { critical: true, direction: 'increase' }, spreadCheckDefaults({ criticalTailRatio: 10 }))).toMatchObject({ label: 'High', critical: false });
  });
});
