/**
 * What the judge returns. Plain JSON-safe data: every number is finite or null (null where Kayenta
 * would hold NaN: a mean of an empty series, a mean ratio with a zero mean; or an unbounded ratio,
 * whose parts are always recorded beside it). A stored result carries the inputs of its decision:
 * the resolved config, per-series statistics, the interval, effect size and bounds it was held to.
 */
import type { EffectSizeMeasure, MetricJudgeConfig, MetricLabel, ScoreClassification, ScoreThresholds, SpreadCheckConfig } from './types.js';

/** Kayenta's report statistics, on the cleaned series. Empty series: count 0, the rest null. */
export interface SeriesStats {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Sample standard deviation (n − 1), 0 for a single point. */
  std: number | null;
}

export interface CleaningReport {
  /** Points in the series as given. */
  received: number;
  /** NaN points removed (strategy remove) or replaced by 0 (strategy replace). */
  nanPoints: number;
  /** Points dropped outside the fences; 0 when outliers are kept. */
  outliersRemoved: number;
  /** The fences applied; null when outliers are kept or the series was empty. */
  fences: { lower: number; upper: number } | null;
}

/** The Mann-Whitney interval for the shift experiment − control. */
export interface ShiftInterval {
  lower: number;
  upper: number;
  estimate: number;
}

export interface Comparison {
  confidenceLevel: number;
  interval: ShiftInterval;
  /** The tolerance fraction (0.25) and the band it gives: bound = fraction × |estimate|. */
  toleranceFraction: number;
  toleranceBound: number;
  effectSize: { measure: EffectSizeMeasure; value: number | null };
  /** True when the tie guard added noise before the test (both series constant, different values). */
  tieNoiseAdded: boolean;
}

/** Extra per-series figures the spread-and-tail check used. */
export interface SpreadStats {
  p1: number;
  p25: number;
  p50: number;
  p75: number;
  p99: number;
  /** The low and high tail percentiles actually compared (p(100 − t), p(t)). */
  tailLow: number;
  tailHigh: number;
  iqr: number;
  std: number;
}

export type SpreadCheckResult =
  | { outcome: 'skipped'; reason: string; config: SpreadCheckConfig }
  | {
      outcome: 'pass' | 'fail';
      config: SpreadCheckConfig;
      control: SpreadStats;
      experiment: SpreadStats;
      /** Canary spread over baseline spread; null when unbounded (baseline spread 0, canary's not). */
      spreadRatio: number | null;
      spreadFailed: boolean;
      /** How many times worse the canary's tail is, in the bad direction; null when unbounded. */
      tailRatio: number | null;
      tailFailed: boolean;
      /** The label a failure gives, and whether it is critical (both meaningless on pass). */
      label: 'High' | 'Low';
      critical: boolean;
      reason: string;
    };

/** Which rule decided the label, and its evidence. */
export type MetricEvidence =
  | { rule: 'no-data' }
  | { rule: 'identical' }
  | { rule: 'single-value' }
  | { rule: 'compared'; decidedBy: 'mann-whitney' | 'spread-check'; comparison: Comparison; spread: SpreadCheckResult | null }
  | { rule: 'error'; message: string };

export interface MetricResult {
  metric: string;
  groups: string[];
  muted: boolean;
  label: MetricLabel;
  /** True when this failure fails the whole canary (score 0). */
  critical: boolean;
  reason: string;
  /** mean(experiment) / mean(control), Kayenta's reported "ratio"; null when a mean is 0 or missing. */
  meanRatio: number | null;
  stats: { control: SeriesStats; experiment: SeriesStats };
  cleaning: { control: CleaningReport; experiment: CleaningReport };
  evidence: MetricEvidence;
  /** The configuration the decision used, spread check resolved. */
  config: MetricJudgeConfig;
}

export interface GroupScore {
  group: string;
  /** 100 · Pass / (Pass + High + Low + NodataFailMetric); 0 when noData. */
  score: number;
  /** No metric of the group counted (only Nodata / Error): it counts as 100 in the summary. */
  noData: boolean;
  /** The weight the summary used. */
  weight: number;
  counts: Record<MetricLabel, number>;
}

export type ScoreOverride =
  | { kind: 'critical-failure'; metric: string; reason: string }
  | { kind: 'too-much-nodata'; nodataPercent: number }
  | { kind: 'nothing-to-score' };

export interface JudgeSummary {
  /** 0..100, rounded to 2 decimals. */
  score: number;
  classification: ScoreClassification;
  /** Why an override set the score, or null. */
  reason: string | null;
  override: ScoreOverride | null;
  thresholds: ScoreThresholds;
}

export interface JudgeResult {
  /** Names the rules that made the decision, so a stored result says how it was reached. */
  judge: string;
  metrics: MetricResult[];
  groups: GroupScore[];
  summary: JudgeSummary;
}
