/**
 * The canary judge: Kayenta's NetflixACAJudge, ported as pure domain code, with an
 * optional spread-and-tail check beyond it (spread-check.ts).
 *
 * `judge(config, pairs)` classifies every configured metric (classify-metric.ts), scores groups and
 * the summary (score.ts), and returns the decision with the inputs it used. Same inputs, same result:
 * no clock, no I/O, and the tie guard's noise is seeded from the data unless given.
 */
import { ValidationError } from '../errors.js';
import { classifyMetric } from './classify-metric.js';
import { spreadCheckFor, validateJudgeConfig } from './config.js';
import type { JudgeResult } from './results.js';
import { scoreJudgment } from './score.js';
import type { JudgeConfig, JudgeOptions, MetricSetPair } from './types.js';

/** Written into every result: which rules made the decision. */
export const JUDGE_NAME = 'crossfade-aca-v1 (NetflixACAJudge-v1.0 rules)';

/**
 * Judges canary (experiment) against baseline (control), one pair per metric. Metrics are judged in
 * config order. A configured metric without a pair is judged on two empty series, so its no-data
 * policy decides (a provider that answered nothing is missing data, not a bug).
 *
 * Throws ValidationError when the config is invalid (validateJudgeConfig), a pair names a metric
 * the config does not (field `pairs[i].metric`, rule `metric-known`; Kayenta throws too), or two
 * pairs name the same metric (rule `pair-unique`).
 */
export function judge(config: JudgeConfig, pairs: readonly MetricSetPair[], options: JudgeOptions = {}): JudgeResult {
  validateJudgeConfig(config);
  const known = new Set(config.metrics.map((metric) => metric.name));
  const byMetric = new Map<string, MetricSetPair>();
  pairs.forEach((pair, index) => {
    if (!known.has(pair.metric)) throw new ValidationError(`pairs[${index}] is for metric "${pair.metric}", which the configuration does not name`, `pairs[${index}].metric`, 'metric-known');
    if (byMetric.has(pair.metric)) throw new ValidationError(`metric "${pair.metric}" has two pairs`, `pairs[${index}].metric`, 'pair-unique');
    byMetric.set(pair.metric, pair);
  });

  const metrics = config.metrics.map((metric) => {
    const pair = byMetric.get(metric.name);
    return classifyMetric(metric, pair?.control ?? [], pair?.experiment ?? [], { spreadCheck: spreadCheckFor(metric, config), noise: options.noise });
  });
  const { groups, summary } = scoreJudgment(metrics, config.groupWeights, config.thresholds);
  return { judge: JUDGE_NAME, metrics, groups, summary };
}

export { classifyMetric, CONFIDENCE_LEVEL, TIE_NOISE_FACTOR, TOLERANCE_FRACTION, type ClassifyOptions } from './classify-metric.js';
export { cleanSeries, outlierFences } from './clean.js';
export { metricJudgeDefaults, spreadCheckDefaults, spreadCheckFor, validateJudgeConfig, type MetricJudgeInput } from './config.js';
export { cles, effectSize, meanRatio } from './effect-size.js';
export { MannWhitneyError, mannWhitneyInterval, wilcoxonZ } from './mann-whitney.js';
export { normalQuantile } from './normal-quantile.js';
export { gaussianNoise, mulberry32, seededNoiseFor, seedFrom } from './random.js';
export type * from './results.js';
export { classifyScore, NODATA_THRESHOLD_PERCENT, scoreJudgment } from './score.js';
export { runSpreadCheck } from './spread-check.js';
export * from './types.js';
export { continuesAfter, judgmentCount, runVerdict, type RunVerdict } from './verdict.js';
