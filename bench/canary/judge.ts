/**
 * Scenario `canary/judge`: one full judgment of 50 metrics, each a baseline and a canary series of
 * 1,000 points, in Kayenta mode and with the spread-and-tail check on. The data is pseudo-random
 * but seeded (the same numbers every run) and mixed the way a real canary's is: most metrics pass,
 * some shift up or down, some widen or grow a slow tail, error counts are mostly zeros (heavy ties),
 * a few series have gaps (NaN) and spikes.
 *
 * Timed: `judge()` end to end (cleaning, 50 Mann-Whitney intervals, scoring), and separately each
 * metric's `classifyMetric` call. Building the input is not timed.
 */
import { classifyMetric } from '../../shared/domain/judge/classify-metric.js';
import { metricJudgeDefaults, spreadCheckDefaults, spreadCheckFor } from '../../shared/domain/judge/config.js';
import { judge } from '../../shared/domain/judge/index.js';
import { gaussianNoise, mulberry32 } from '../../shared/domain/judge/random.js';
import type { JudgeResult } from '../../shared/domain/judge/results.js';
import type { JudgeConfig, MetricJudgeConfig, MetricSetPair } from '../../shared/domain/judge/types.js';
import { sized } from '../lib/size.js';
import { roundMs, summarize } from '../lib/stats.js';
import type { Scenario, ScenarioOutcome } from '../lib/suite.js';
import { formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';

const METRICS = 50;
const POINTS = 1_000;
const WARM_UP_RUNS = sized(3, 1);
const RUNS = sized(30, 1);

type Shape = 'same' | 'up' | 'down' | 'wider' | 'slow-tail' | 'errors-same' | 'errors-up' | 'gaps-and-spikes';

/** How the 50 metrics are made: 32 that should pass, 18 that carry a change of some kind. */
const PLAN: readonly { shape: Shape; count: number; group: string; direction: MetricJudgeConfig['direction'] }[] = [
  { shape: 'same', count: 24, group: 'latency', direction: 'increase' },
  { shape: 'errors-same', count: 6, group: 'errors', direction: 'increase' },
  { shape: 'gaps-and-spikes', count: 2, group: 'saturation', direction: 'either' },
  { shape: 'up', count: 6, group: 'latency', direction: 'increase' },
  { shape: 'down', count: 3, group: 'saturation', direction: 'decrease' },
  { shape: 'wider', count: 3, group: 'latency', direction: 'increase' },
  { shape: 'slow-tail', count: 3, group: 'latency', direction: 'increase' },
  { shape: 'errors-up', count: 3, group: 'errors', direction: 'increase' },
];

function series(shape: Shape, seed: number, side: 'control' | 'experiment'): number[] {
  const uniform = mulberry32(seed);
  const noise = gaussianNoise(uniform);
  const canary = side === 'experiment';
  const latency = (median: number, sigma: number) => median * Math.exp(noise(sigma));
  return Array.from({ length: POINTS }, (_, i) => {
    switch (shape) {
      case 'same':
        return latency(120, 0.2);
      case 'up':
        return latency(canary ? 150 : 120, 0.2);
      case 'down':
        return 1000 + noise(50) - (canary ? 120 : 0);
      case 'wider':
        return latency(120, canary ? 0.8 : 0.2);
      case 'slow-tail':
        return latency(120, 0.2) * (canary && i % 40 === 0 ? 6 : 1);
      case 'errors-same':
        return uniform() < 0.9 ? 0 : Math.floor(uniform() * 3) + 1;
      case 'errors-up':
        return uniform() < (canary ? 0.7 : 0.9) ? 0 : Math.floor(uniform() * 3) + 1;
      case 'gaps-and-spikes':
        return i % 97 === 0 ? Number.NaN : i % 331 === 0 ? 50_000 : 400 + noise(20);
    }
  });
}

function buildInput(): { metrics: MetricJudgeConfig[]; pairs: MetricSetPair[] } {
  const metrics: MetricJudgeConfig[] = [];
  const pairs: MetricSetPair[] = [];
  for (const { shape, count, group, direction } of PLAN) {
    for (let k = 0; k < count; k++) {
      const name = `${shape}-${k + 1}`;
      const seed = metrics.length * 2 + 1;
      metrics.push(metricJudgeDefaults({ name, groups: [group], direction, nanStrategy: shape.startsWith('errors') ? 'replace' : 'remove', outliers: { strategy: shape === 'gaps-and-spikes' ? 'remove' : 'keep' } }));
      pairs.push({ metric: name, control: series(shape, seed, 'control'), experiment: series(shape, seed + 1, 'experiment') });
    }
  }
  if (metrics.length !== METRICS) throw new Error(`the plan makes ${metrics.length} metrics, not ${METRICS}`);
  return { metrics, pairs };
}

interface ModeFigures {
  mode: string;
  judgmentMs: number[];
  metricMs: number[];
  last: JudgeResult;
}

function measureMode(mode: string, config: JudgeConfig, pairs: readonly MetricSetPair[], progress: (message: string) => void): ModeFigures {
  progress(`${mode}: ${WARM_UP_RUNS} warm-up runs, then ${RUNS} runs of ${METRICS} metrics × 2 × ${POINTS} points`);
  let last = judge(config, pairs);
  for (let i = 1; i < WARM_UP_RUNS; i++) last = judge(config, pairs);
  const judgmentMs: number[] = [];
  const metricMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const elapsed = startTimer();
    last = judge(config, pairs);
    judgmentMs.push(elapsed());
    config.metrics.forEach((metric, index) => {
      const pair = pairs[index]!;
      const one = startTimer();
      classifyMetric(metric, pair.control, pair.experiment, { spreadCheck: spreadCheckFor(metric, config) });
      metricMs.push(one());
    });
  }
  return { mode, judgmentMs, metricMs, last };
}

function labelCounts(result: JudgeResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const metric of result.metrics) counts[metric.label] = (counts[metric.label] ?? 0) + 1;
  return counts;
}

async function run(context: { progress(message: string): void }): Promise<ScenarioOutcome> {
  const { metrics, pairs } = buildInput();
  const base: JudgeConfig = { metrics, groupWeights: { latency: 50, errors: 30 }, thresholds: { pass: 95, marginal: 75 } };
  const modes = [measureMode('kayenta', base, pairs, context.progress), measureMode('spread+tail', { ...base, spreadCheck: spreadCheckDefaults() }, pairs, context.progress)];

  const results = modes.map(({ mode, judgmentMs, metricMs, last }) => {
    const judgment = summarize(judgmentMs);
    const metric = summarize(metricMs);
    return {
      mode,
      metrics: METRICS,
      pointsPerSeries: POINTS,
      runs: RUNS,
      judgmentMs: { median: roundMs(judgment.p50), p99: roundMs(judgment.p99), min: roundMs(judgment.min), max: roundMs(judgment.max) },
      metricMs: { median: roundMs(metric.p50), p99: roundMs(metric.p99), max: roundMs(metric.max), samples: metric.count },
      labels: labelCounts(last),
      score: last.summary.score,
      classification: last.summary.classification,
    };
  });
  const table: Table = {
    title: `canary / judge: ${METRICS} metrics × 2 × ${POINTS.toLocaleString('en-US')} points — node ${process.version}, ${RUNS} runs`,
    columns: [
      { header: 'mode' },
      { header: 'judgment ms p50', align: 'right' },
      { header: 'p99', align: 'right' },
      { header: 'per metric ms p50', align: 'right' },
      { header: 'p99', align: 'right' },
      { header: 'labels' },
      { header: 'score', align: 'right' },
    ],
    rows: results.map((r) => [
      r.mode,
      formatMs(r.judgmentMs.median),
      formatMs(r.judgmentMs.p99),
      formatMs(r.metricMs.median),
      formatMs(r.metricMs.p99),
      Object.entries(r.labels)
        .map(([label, count]) => `${label} ${count}`)
        .join(', '),
      `${r.score} (${r.classification})`,
    ]),
    notes: [
      `Data (seeded, identical every run): ${PLAN.map((p) => `${p.count} ${p.shape}`).join(', ')}. Latencies log-normal (median 120, σ 0.2), error counts 90% zeros, gaps as NaN.`,
      'judgment: judge() end to end (validation, cleaning, 50 Mann-Whitney intervals at 98%, effect sizes, group scores). per metric: classifyMetric for one metric, timed alone, 50 per run.',
      `Median and p99 by nearest rank over ${RUNS} runs (per metric: ${RUNS * METRICS} samples), after ${WARM_UP_RUNS} warm-up runs. Input construction is not timed.`,
      'spread+tail: the same judgment with the spread-and-tail check on every metric (IQR ratio ≤ 2, p99 ratio ≤ 1.5).',
    ],
  };
  return { tables: [table], results };
}

export const judgeScenario: Scenario = {
  name: 'judge',
  summary: `one judgment of ${METRICS} metrics × 2 × ${POINTS} points, Kayenta mode and with the spread-and-tail check`,
  run,
};
