/**
 * The canary judge's configuration and its results. Configuration follows Kayenta's canary config
 * (`analysisConfigurations.canary` per metric, `classifier.groupWeights`, `scoreThresholds`); see
 * docs/canary.md "The judge" and config.ts for the defaults.
 *
 * Result types are in results.ts.
 */

export const MetricDirection = { increase: 'increase', decrease: 'decrease', either: 'either' } as const;
export type MetricDirection = (typeof MetricDirection)[keyof typeof MetricDirection];

export const NanStrategy = { remove: 'remove', replace: 'replace' } as const;
export type NanStrategy = (typeof NanStrategy)[keyof typeof NanStrategy];

export const EffectSizeMeasure = { meanRatio: 'meanRatio', cles: 'cles' } as const;
export type EffectSizeMeasure = (typeof EffectSizeMeasure)[keyof typeof EffectSizeMeasure];

export const OutlierStrategy = { remove: 'remove', keep: 'keep' } as const;
export type OutlierStrategy = (typeof OutlierStrategy)[keyof typeof OutlierStrategy];

export const SpreadMeasure = { iqr: 'iqr', std: 'std' } as const;
export type SpreadMeasure = (typeof SpreadMeasure)[keyof typeof SpreadMeasure];

/** Kayenta's metric labels, spelled as Kayenta reports them. */
export const MetricLabel = { Pass: 'Pass', High: 'High', Low: 'Low', Nodata: 'Nodata', NodataFailMetric: 'NodataFailMetric', Error: 'Error' } as const;
export type MetricLabel = (typeof MetricLabel)[keyof typeof MetricLabel];

export const ScoreClassification = { Pass: 'Pass', Marginal: 'Marginal', Fail: 'Fail' } as const;
export type ScoreClassification = (typeof ScoreClassification)[keyof typeof ScoreClassification];

export interface EffectSizeConfig {
  measure: EffectSizeMeasure;
  /** High needs effect ≥ this (meanRatio: ratio; cles: probability). */
  allowedIncrease: number;
  /** Low needs effect ≤ this. */
  allowedDecrease: number;
  /** A critical metric's High is critical only when effect ≥ this. */
  criticalIncrease: number;
  /** A critical metric's Low is critical only when effect ≤ this. */
  criticalDecrease: number;
}

export interface OutlierConfig {
  strategy: OutlierStrategy;
  /** k in the IQR fences Q1 − k·IQR, Q3 + k·IQR. */
  factor: number;
}

/** The spread-and-tail check (spread-check.ts), beyond Kayenta. Off unless `enabled`. */
export interface SpreadCheckConfig {
  enabled: boolean;
  /** How spread is measured: interquartile range (robust) or sample standard deviation. */
  measure: SpreadMeasure;
  /** The canary's spread may be at most this many times the baseline's. */
  maxSpreadRatio: number;
  /** The percentile whose tail is compared: 99 compares p99 (high tail) and p1 (low tail). */
  tailPercentile: number;
  /** The canary's tail may be at most this many times worse than the baseline's, in the bad direction. */
  maxTailRatio: number;
  /** On a critical metric, a spread failure is critical when the ratio reaches this. */
  criticalSpreadRatio: number;
  /** On a critical metric, a tail failure is critical when the ratio reaches this. */
  criticalTailRatio: number;
  /** Fewer points than this in either series and the check does not run (a p99 of 5 points is the max). */
  minPoints: number;
}

/** One metric, every field resolved (metricJudgeDefaults fills Kayenta's defaults). */
export interface MetricJudgeConfig {
  name: string;
  groups: string[];
  /** Which way is bad: `increase` fails High only, `decrease` Low only, `either` both. */
  direction: MetricDirection;
  critical: boolean;
  mustHaveData: boolean;
  /** Judged and reported, but left out of every score. */
  muted: boolean;
  nanStrategy: NanStrategy;
  effectSize: EffectSizeConfig;
  outliers: OutlierConfig;
  /** Overrides JudgeConfig.spreadCheck for this metric; neither set means Kayenta's rules only. */
  spreadCheck?: SpreadCheckConfig;
}

export interface ScoreThresholds {
  /** A summary score ≥ pass is Pass. */
  pass: number;
  /** A summary score ≥ marginal (and < pass) is Marginal; below it, Fail. */
  marginal: number;
}

export interface JudgeConfig {
  metrics: MetricJudgeConfig[];
  /** Weight per group, adding up to at most 100; groups without one share the rest equally. */
  groupWeights: Record<string, number>;
  thresholds: ScoreThresholds;
  /** The spread-and-tail check for every metric that sets none of its own. */
  spreadCheck?: SpreadCheckConfig;
}

/** One metric's two series, aligned points at the query's step; NaN marks a missing point. */
export interface MetricSetPair {
  metric: string;
  control: readonly number[];
  experiment: readonly number[];
}

/** A source of Gaussian noise N(0, sigma): one draw per call. */
export type GaussianNoise = (sigma: number) => number;

export interface JudgeOptions {
  /**
   * The noise of Kayenta's tie guard (classify-metric.ts). Default: a generator seeded from each
   * metric's name and data, so the same inputs always give the same judgment.
   */
  noise?: GaussianNoise;
}
