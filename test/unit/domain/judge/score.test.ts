/**
 * Scoring a judgment (shared/domain/judge/score.ts), through judge(): group scores, weights given
 * and shared, the critical and no-data overrides, muted metrics, and the Pass/Marginal/Fail line.
 * Metrics get their labels from data built for them: identical series pass, a +30% shift is High,
 * an empty canary is Nodata.
 */
import { describe, expect, it } from 'vitest';
import { classifyScore, judge, metricJudgeDefaults, type JudgeConfig, type MetricJudgeInput, type MetricSetPair } from '../../../../shared/domain/judge/index.js';
import { gaussianNoise, mulberry32 } from '../../../../shared/domain/judge/random.js';

function normal(seed: number, n: number, mu: number, sd: number): number[] {
  const noise = gaussianNoise(mulberry32(seed));
  return Array.from({ length: n }, () => mu + noise(sd));
}

const BASELINE = normal(51, 100, 100, 5);
const DATA = {
  pass: { control: BASELINE, experiment: [...BASELINE] },
  high: { control: BASELINE, experiment: normal(52, 100, 130, 5) },
  nodata: { control: BASELINE, experiment: [] as number[] },
  error: { control: BASELINE, experiment: [1, Number.POSITIVE_INFINITY] },
};
type Outcome = keyof typeof DATA;

interface Row extends Partial<MetricJudgeInput> {
  name: string;
  groups: string[];
  data: Outcome;
}

function run(rows: Row[], groupWeights: Record<string, number> = {}, thresholds = { pass: 95, marginal: 75 }) {
  const config: JudgeConfig = { metrics: rows.map(({ data: _data, ...metric }) => metricJudgeDefaults(metric)), groupWeights, thresholds };
  const pairs: MetricSetPair[] = rows.map((row) => ({ metric: row.name, ...DATA[row.data] }));
  return judge(config, pairs);
}

describe('group scores and the summary', () => {
  it('a group scores 100·Pass / (Pass + High + Low + NodataFailMetric); Nodata and Error count in neither', () => {
    const result = run([
      { name: 'a', groups: ['g'], data: 'pass' },
      { name: 'b', groups: ['g'], data: 'pass' },
      { name: 'c', groups: ['g'], data: 'high' },
      { name: 'd', groups: ['g'], data: 'nodata' },
      { name: 'e', groups: ['g'], data: 'error' },
      { name: 'f', groups: ['g'], data: 'nodata', mustHaveData: true },
      { name: 'h', groups: ['g'], data: 'pass' },
    ]);

    expect(result.metrics.map((m) => m.label)).toEqual(['Pass', 'Pass', 'High', 'Nodata', 'Error', 'NodataFailMetric', 'Pass']);
    expect(result.groups).toEqual([{ group: 'g', score: 60, noData: false, weight: 100, counts: { Pass: 3, High: 1, Low: 0, Nodata: 1, NodataFailMetric: 1, Error: 1 } }]);
    expect(result.summary).toMatchObject({ score: 60, classification: 'Fail', reason: null, override: null });
  });

  it('given weights: 60 × 50% + 40 × 100% = 70', () => {
    const result = run(
      [
        { name: 'p50', groups: ['latency'], data: 'pass' },
        { name: 'p99', groups: ['latency'], data: 'high' },
        { name: '5xx', groups: ['errors'], data: 'pass' },
      ],
      { latency: 60, errors: 40 },
    );

    expect(result.groups.map(({ group, score, weight }) => ({ group, score, weight }))).toEqual([
      { group: 'latency', score: 50, weight: 60 },
      { group: 'errors', score: 100, weight: 40 },
    ]);
    expect(result.summary.score).toBe(70);
  });

  it('groups without a weight share the remainder equally: 50 given, 25 + 25 shared', () => {
    const result = run(
      [
        { name: 'p50', groups: ['latency'], data: 'pass' },
        { name: 'p99', groups: ['latency'], data: 'high' },
        { name: '5xx', groups: ['errors'], data: 'pass' },
        { name: 'cpu', groups: ['saturation'], data: 'high' },
      ],
      { latency: 50 },
    );

    expect(result.groups.map((g) => g.weight)).toEqual([50, 25, 25]);
    expect(result.summary.score).toBe(50 * 0.5 + 100 * 0.25 + 0 * 0.25);
  });

  it('a metric in two groups counts in each; equal shares of thirds round to 2 decimals', () => {
    const result = run([
      { name: 'a', groups: ['x', 'y'], data: 'high' },
      { name: 'b', groups: ['y'], data: 'pass' },
      { name: 'c', groups: ['z'], data: 'pass' },
    ]);

    expect(result.groups.map((g) => g.score)).toEqual([0, 50, 100]);
    expect(result.summary.score).toBe(50); // (0 + 50 + 100) / 3
    const thirds = run([
      { name: 'a', groups: ['x'], data: 'pass' },
      { name: 'b', groups: ['y'], data: 'pass' },
      { name: 'c', groups: ['z'], data: 'high' },
    ]);
    expect(thirds.summary.score).toBe(66.67);
  });

  it('a group with nothing counted is noData: reported 0, counted as 100', () => {
    const result = run([
      { name: 'a', groups: ['x'], data: 'pass' },
      { name: 'b', groups: ['y'], data: 'nodata' },
      { name: 'c', groups: ['z'], data: 'high' },
    ]);

    expect(result.groups[1]).toMatchObject({ group: 'y', score: 0, noData: true });
    expect(result.summary.score).toBe(66.67);
  });

  it('muted metrics are judged and reported but left out of every score', () => {
    const result = run([
      { name: 'a', groups: ['g'], data: 'pass' },
      { name: 'noisy', groups: ['g'], data: 'high', muted: true, critical: true },
    ]);

    expect(result.metrics[1]).toMatchObject({ metric: 'noisy', muted: true, label: 'High', critical: true });
    expect(result.groups[0]!.counts.High).toBe(0);
    expect(result.summary).toMatchObject({ score: 100, classification: 'Pass', override: null });
  });
});

describe('overrides', () => {
  it('a failing critical metric scores 0, the reason naming it', () => {
    const result = run([
      { name: 'a', groups: ['g'], data: 'pass' },
      { name: 'b', groups: ['g'], data: 'pass' },
      { name: 'errors', groups: ['g'], data: 'high', critical: true },
    ]);

    expect(result.summary).toMatchObject({ score: 0, classification: 'Fail', override: { kind: 'critical-failure', metric: 'errors' } });
    expect(result.summary.reason).toMatch(/^Canary Failed: critical metric errors: The metric was classified as High/);
    expect(result.groups[0]!.score).toBeCloseTo(66.667, 3); // group scores stay as computed
  });

  it('a critical metric with no data fails the canary too (Nodata, critical)', () => {
    const result = run([
      { name: 'a', groups: ['g'], data: 'pass' },
      { name: 'b', groups: ['g'], data: 'pass' },
      { name: 'errors', groups: ['g'], data: 'nodata', critical: true },
    ]);

    expect(result.summary).toMatchObject({ score: 0, override: { kind: 'critical-failure', metric: 'errors' } });
  });

  it('50% or more Nodata scores 0; less does not', () => {
    const half = run([
      { name: 'a', groups: ['g'], data: 'pass' },
      { name: 'b', groups: ['h'], data: 'nodata' },
    ]);
    expect(half.summary).toMatchObject({ score: 0, classification: 'Fail', override: { kind: 'too-much-nodata', nodataPercent: 50 } });
    expect(half.summary.reason).toBe('Canary Failed: 50% or more metrics returned NODATA (50%)');

    const third = run([
      { name: 'a', groups: ['g'], data: 'pass' },
      { name: 'b', groups: ['g'], data: 'pass' },
      { name: 'c', groups: ['g'], data: 'nodata' },
    ]);
    expect(third.summary).toMatchObject({ score: 100, override: null });
  });

  it('NodataFailMetric does not count towards the Nodata share', () => {
    const result = run([
      { name: 'a', groups: ['g'], data: 'pass' },
      { name: 'b', groups: ['g'], data: 'nodata', mustHaveData: true },
    ]);
    expect(result.summary).toMatchObject({ score: 50, override: null });
  });

  it('every metric muted: nothing to score, 0', () => {
    const result = run([{ name: 'a', groups: ['g'], data: 'pass', muted: true }]);
    expect(result.summary).toMatchObject({ score: 0, classification: 'Fail', override: { kind: 'nothing-to-score' } });
  });
});

describe('classifyScore (ThresholdScoreClassifier)', () => {
  it.each([
    [100, 'Pass'],
    [95, 'Pass'],
    [94.99, 'Marginal'],
    [75, 'Marginal'],
    [74.99, 'Fail'],
    [0, 'Fail'],
  ])('%s with pass 95, marginal 75 is %s', (score, classification) => {
    expect(classifyScore(score, { pass: 95, marginal: 75 })).toBe(classification);
  });
});
