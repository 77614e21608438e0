/**
 * Effect sizes (Kayenta EffectSizes.scala): how large a shift is, beside whether it is significant.
 * The judge gates High/Low on them, so a statistically certain but tiny change (1.000 → 1.001 over
 * thousands of points) does not fail a canary when the limits say it should not.
 */
import { averageRanks, mean } from './statistics.js';
import type { EffectSizeMeasure } from './types.js';

/** mean(experiment) / mean(control); NaN when either mean is 0, or not finite (an empty or infinite series). */
export function meanRatio(experiment: readonly number[], control: readonly number[]): number {
  const experimentMean = mean(experiment);
  const controlMean = mean(control);
  if (experimentMean === 0 || controlMean === 0 || !Number.isFinite(experimentMean) || !Number.isFinite(controlMean)) return Number.NaN;
  return experimentMean / controlMean;
}

/**
 * The common-language effect size: P(experiment > control) + ½·P(tie), from the pooled average
 * ranks: (2·R₁ − m(m+1)) / (2·m·n), R₁ the experiment's rank sum, m = |experiment|, n = |control|.
 */
export function cles(experiment: readonly number[], control: readonly number[]): number {
  const m = experiment.length;
  const n = control.length;
  if (m === 0 || n === 0) return Number.NaN;
  const ranks = averageRanks([...experiment, ...control]);
  let rankSum = 0;
  for (let i = 0; i < m; i++) rankSum += ranks[i]!;
  return (2 * rankSum - m * (m + 1)) / (2 * m * n);
}

export function effectSize(measure: EffectSizeMeasure, experiment: readonly number[], control: readonly number[]): number {
  return measure === 'cles' ? cles(experiment, control) : meanRatio(experiment, control);
}
