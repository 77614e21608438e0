/**
 * Kayenta's defaults, and the checks a judge configuration must pass before anything is judged.
 *
 * Defaults (docs/canary-config.md, BaseMetricClassifier.scala): direction `either`, nanStrategy
 * `remove` (Kayenta's default string "none" parses to Remove), not critical, data not required,
 * not muted, effect size `meanRatio` with all four limits 1.0 (0.5 for `cles`: no effect at all),
 * outliers kept (factor 3.0 when removed). The spread-and-tail check is off: Kayenta has none.
 */
import { ValidationError } from '../errors.js';
import type { EffectSizeConfig, JudgeConfig, MetricJudgeConfig, OutlierConfig, SpreadCheckConfig } from './types.js';

/** A metric as written by hand: name and groups, the rest optional. */
export type MetricJudgeInput = Pick<MetricJudgeConfig, 'name' | 'groups'> &
  Partial<Pick<MetricJudgeConfig, 'direction' | 'critical' | 'mustHaveData' | 'muted' | 'nanStrategy'>> & {
    effectSize?: Partial<EffectSizeConfig>;
    outliers?: Partial<OutlierConfig>;
    spreadCheck?: Partial<SpreadCheckConfig>;
  };

export function metricJudgeDefaults(input: MetricJudgeInput): MetricJudgeConfig {
  const measure = input.effectSize?.measure ?? 'meanRatio';
  const neutral = measure === 'cles' ? 0.5 : 1.0;
  const config: MetricJudgeConfig = {
    name: input.name,
    groups: [...input.groups],
    direction: input.direction ?? 'either',
    critical: input.critical ?? false,
    mustHaveData: input.mustHaveData ?? false,
    muted: input.muted ?? false,
    nanStrategy: input.nanStrategy ?? 'remove',
    effectSize: {
      measure,
      allowedIncrease: input.effectSize?.allowedIncrease ?? neutral,
      allowedDecrease: input.effectSize?.allowedDecrease ?? neutral,
      criticalIncrease: input.effectSize?.criticalIncrease ?? neutral,
      criticalDecrease: input.effectSize?.criticalDecrease ?? neutral,
    },
    outliers: { strategy: input.outliers?.strategy ?? 'keep', factor: input.outliers?.factor ?? 3.0 },
  };
  if (input.spreadCheck) config.spreadCheck = spreadCheckDefaults(input.spreadCheck);
  return config;
}

/** The spread-and-tail check's defaults (spread-check.ts explains the rule); enabled unless said. */
export function spreadCheckDefaults(input: Partial<SpreadCheckConfig> = {}): SpreadCheckConfig {
  const maxSpreadRatio = input.maxSpreadRatio ?? 2;
  const maxTailRatio = input.maxTailRatio ?? 1.5;
  return {
    enabled: input.enabled ?? true,
    measure: input.measure ?? 'iqr',
    maxSpreadRatio,
    tailPercentile: input.tailPercentile ?? 99,
    maxTailRatio,
    criticalSpreadRatio: input.criticalSpreadRatio ?? maxSpreadRatio,
    criticalTailRatio: input.criticalTailRatio ?? maxTailRatio,
    minPoints: input.minPoints ?? 10,
  };
}

/** The spread check a metric runs under: its own, else the judge's; null when off (Kayenta mode). */
export function spreadCheckFor(metric: MetricJudgeConfig, config: JudgeConfig): SpreadCheckConfig | null {
  const chosen = metric.spreadCheck ?? config.spreadCheck;
  return chosen?.enabled ? chosen : null;
}

const DIRECTIONS = ['increase', 'decrease', 'either'];
const NAN_STRATEGIES = ['remove', 'replace'];

/**
 * Throws ValidationError (field: a dotted path into the config) when: there are no metrics; a name
 * is empty or repeats; a metric has no group or an unknown direction, NaN strategy, effect-size
 * measure or outlier strategy; a limit is not a finite number; a group weight names no metric's
 * group or only muted metrics' group, is negative, or the weights add up to more than 100 (or,
 * when every scored group has one, to other than 100: a perfect canary could not reach 100);
 * thresholds are outside 0..100 or marginal > pass; a spread check is malformed.
 */
export function validateJudgeConfig(config: JudgeConfig): void {
  if (config.metrics.length === 0) throw new ValidationError('a judge configuration needs at least one metric', 'metrics', 'metrics-present');
  const names = new Set<string>();
  const groups = new Set<string>();
  const scoredGroups = new Set<string>();
  config.metrics.forEach((metric, index) => {
    const at = `metrics[${index}]`;
    if (!metric.name) throw new ValidationError(`${at}.name is empty`, `${at}.name`, 'name-present');
    if (names.has(metric.name)) throw new ValidationError(`metric "${metric.name}" is configured twice`, `${at}.name`, 'metric-unique');
    names.add(metric.name);
    if (metric.groups.length === 0) throw new ValidationError(`metric "${metric.name}" belongs to no group, so it could never count`, `${at}.groups`, 'groups-present');
    metric.groups.forEach((group) => groups.add(group));
    if (!metric.muted) metric.groups.forEach((group) => scoredGroups.add(group));
    oneOf(metric.direction, DIRECTIONS, `${at}.direction`);
    oneOf(metric.nanStrategy, NAN_STRATEGIES, `${at}.nanStrategy`);
    oneOf(metric.effectSize.measure, ['meanRatio', 'cles'], `${at}.effectSize.measure`);
    for (const key of ['allowedIncrease', 'allowedDecrease', 'criticalIncrease', 'criticalDecrease'] as const) finite(metric.effectSize[key], `${at}.effectSize.${key}`);
    oneOf(metric.outliers.strategy, ['remove', 'keep'], `${at}.outliers.strategy`);
    nonNegative(metric.outliers.factor, `${at}.outliers.factor`);
    if (metric.spreadCheck) validateSpreadCheck(metric.spreadCheck, `${at}.spreadCheck`);
  });
  if (config.spreadCheck) validateSpreadCheck(config.spreadCheck, 'spreadCheck');

  let weightSum = 0;
  for (const [group, weight] of Object.entries(config.groupWeights)) {
    if (!groups.has(group)) throw new ValidationError(`groupWeights names "${group}", which no metric belongs to`, `groupWeights.${group}`, 'group-known');
    // Muted metrics are left out of scoring, so an all-muted group would take its weight with it.
    if (!scoredGroups.has(group)) throw new ValidationError(`groupWeights names "${group}", whose metrics are all muted: its weight could never count`, `groupWeights.${group}`, 'group-scored');
    nonNegative(weight, `groupWeights.${group}`);
    weightSum += weight;
  }
  if (weightSum > 100 + 1e-9) throw new ValidationError(`group weights add up to ${weightSum}, more than 100`, 'groupWeights', 'weights-at-most-100');
  if (scoredGroups.size > 0 && scoredGroups.size === Object.keys(config.groupWeights).length && Math.abs(weightSum - 100) > 1e-9) {
    throw new ValidationError(`every group has a weight and they add up to ${weightSum}, not 100: a perfect canary could not score 100`, 'groupWeights', 'weights-add-up-to-100');
  }

  const { pass, marginal } = config.thresholds;
  for (const [key, value] of [['pass', pass], ['marginal', marginal]] as const) {
    if (!Number.isFinite(value) || value < 0 || value > 100) throw new ValidationError(`thresholds.${key} must be between 0 and 100`, `thresholds.${key}`, 'threshold-range');
  }
  if (marginal > pass) throw new ValidationError(`thresholds.marginal (${marginal}) is above thresholds.pass (${pass})`, 'thresholds.marginal', 'marginal-at-most-pass');
}

function validateSpreadCheck(check: SpreadCheckConfig, at: string): void {
  oneOf(check.measure, ['iqr', 'std'], `${at}.measure`);
  for (const key of ['maxSpreadRatio', 'maxTailRatio'] as const) {
    if (!(check[key] >= 1) || !Number.isFinite(check[key])) throw new ValidationError(`${at}.${key} must be a finite ratio of at least 1`, `${at}.${key}`, 'ratio-at-least-1');
  }
  if (!(check.criticalSpreadRatio >= check.maxSpreadRatio)) throw new ValidationError(`${at}.criticalSpreadRatio is below maxSpreadRatio`, `${at}.criticalSpreadRatio`, 'critical-at-least-max');
  if (!(check.criticalTailRatio >= check.maxTailRatio)) throw new ValidationError(`${at}.criticalTailRatio is below maxTailRatio`, `${at}.criticalTailRatio`, 'critical-at-least-max');
  if (!(check.tailPercentile > 50 && check.tailPercentile <= 100)) throw new ValidationError(`${at}.tailPercentile must be above 50 and at most 100`, `${at}.tailPercentile`, 'tail-percentile-range');
  if (!Number.isInteger(check.minPoints) || check.minPoints < 1) throw new ValidationError(`${at}.minPoints must be a whole number of at least 1`, `${at}.minPoints`, 'min-points');
}

function oneOf(value: string, allowed: readonly string[], field: string): void {
  if (!allowed.includes(value)) throw new ValidationError(`${field} is "${value}"; expected one of ${allowed.join(', ')}`, field, 'one-of');
}

function finite(value: number, field: string): void {
  if (!Number.isFinite(value)) throw new ValidationError(`${field} must be a finite number`, field, 'finite');
}

function nonNegative(value: number, field: string): void {
  if (!Number.isFinite(value) || value < 0) throw new ValidationError(`${field} must be a finite number of at least 0`, field, 'non-negative');
}
