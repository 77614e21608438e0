/**
 * One metric, judged as Kayenta's NetflixACAJudge and MannWhitneyClassifier do.
 * After cleaning (clean.ts), the first rule that matches decides:
 *
 * 1. No data (a cleaned series is empty): nanStrategy `replace` → Pass (an empty series can only
 *    mean the source returned nothing); `remove` with mustHaveData and not critical →
 *    NodataFailMetric; otherwise Nodata, critical as the metric.
 * 2. Identical samples (equal once sorted) → Pass.  3. One distinct value in both together → Pass.
 * 4. Tie guard: each series constant but different → add N(0, value·1e-5) noise to each, so the
 *    test's variance is not 0. Kayenta draws from an unseeded generator; here the noise comes in
 *    as an argument (default: seeded from the metric's name and data, random.ts), so a judgment
 *    is a pure function of its inputs and can be repeated and audited.
 * 5. Mann-Whitney 98% interval [lo, hi] and estimate of experiment − control (mann-whitney.ts).
 * 6. Effect size on the same data (meanRatio or cles); 7. tolerance bound = 0.25·|estimate|.
 * 8. High: direction increase/either, lo > bound, effect NaN or ≥ allowedIncrease.
 *    Low: direction decrease/either, hi < −bound, effect NaN or ≤ allowedDecrease. Else Pass.
 * 9. A critical metric's High/Low is critical only when effect NaN or beyond criticalIncrease /
 *    criticalDecrease. 10. The test failing (MannWhitneyError), or an infinite value in a series
 *    (a provider's "+Inf"), → Error, not critical.
 * Beyond Kayenta, when enabled: the spread-and-tail check may turn a Pass into High/Low.
 */
import { cleanSeries } from './clean.js';
import { effectSize, meanRatio } from './effect-size.js';
import { MannWhitneyError, mannWhitneyInterval } from './mann-whitney.js';
import { seededNoiseFor } from './random.js';
import { runSpreadCheck } from './spread-check.js';
import { distinctCount, mean, sameSortedValues, sampleStd, sortedAscending } from './statistics.js';
import type { Comparison, MetricEvidence, MetricResult, SeriesStats } from './results.js';
import type { GaussianNoise, MetricJudgeConfig, MetricLabel, SpreadCheckConfig } from './types.js';

/** Kayenta passes these literals to its classifier (and ignores its own config properties). */
export const CONFIDENCE_LEVEL = 0.98;
export const TOLERANCE_FRACTION = 0.25;
/** The tie guard's noise: sigma = value × this. */
export const TIE_NOISE_FACTOR = 1e-5;

export interface ClassifyOptions {
  /** The spread-and-tail check to run, or null for Kayenta's rules only. */
  spreadCheck: SpreadCheckConfig | null;
  /** Tie-guard noise; undefined: seeded from this metric's name and data. */
  noise?: GaussianNoise;
}

interface Verdict {
  label: MetricLabel;
  critical: boolean;
  reason: string;
  evidence: MetricEvidence;
  /** mean(experiment) / mean(control) on the data the rule looked at (noised when the tie guard ran). */
  meanRatio: number;
}

export function classifyMetric(config: MetricJudgeConfig, control: readonly number[], experiment: readonly number[], options: ClassifyOptions): MetricResult {
  const cleanedControl = cleanSeries(control, config.nanStrategy, config.outliers);
  const cleanedExperiment = cleanSeries(experiment, config.nanStrategy, config.outliers);
  const ctl = cleanedControl.values;
  const exp = cleanedExperiment.values;
  const verdict = decide(config, ctl, exp, options);
  const used: MetricJudgeConfig = structuredClone(config);
  if (options.spreadCheck) used.spreadCheck = structuredClone(options.spreadCheck);
  else delete used.spreadCheck;
  return {
    metric: config.name,
    groups: [...config.groups],
    muted: config.muted,
    label: verdict.label,
    critical: verdict.critical,
    reason: verdict.reason,
    meanRatio: finiteOrNull(verdict.meanRatio),
    stats: { control: seriesStats(ctl), experiment: seriesStats(exp) },
    cleaning: { control: cleanedControl.report, experiment: cleanedExperiment.report },
    evidence: verdict.evidence,
    config: used,
  };
}

function decide(config: MetricJudgeConfig, ctl: number[], exp: number[], options: ClassifyOptions): Verdict {
  const ratio = meanRatio(exp, ctl);
  if (ctl.length === 0 || exp.length === 0) {
    const missing = ctl.length === 0 ? (exp.length === 0 ? 'The baseline and the canary have' : 'The baseline has') : 'The canary has';
    return { ...noData(config, missing), meanRatio: ratio };
  }
  const ctlSorted = sortedAscending(ctl);
  const expSorted = sortedAscending(exp);
  if (sameSortedValues(expSorted, ctlSorted)) return { label: 'Pass', critical: false, reason: 'The canary and baseline data are identical', evidence: { rule: 'identical' }, meanRatio: ratio };
  const constant = distinctCount(ctlSorted) === 1 && distinctCount(expSorted) === 1;
  if (constant && ctlSorted[0] === expSorted[0]) return { label: 'Pass', critical: false, reason: 'The canary and baseline hold one and the same value', evidence: { rule: 'single-value' }, meanRatio: ratio };
  const infinite = !ctl.every(Number.isFinite) ? 'baseline' : !exp.every(Number.isFinite) ? 'canary' : null;
  if (infinite) {
    // Kayenta's test would fail on it too; saying which series is what an operator needs to know.
    const message = `the ${infinite} holds an infinite value`;
    return { label: 'Error', critical: false, reason: `Metric classification failed: ${message}`, evidence: { rule: 'error', message }, meanRatio: ratio };
  }
  try {
    return compare(config, ctl, exp, constant, options);
  } catch (error) {
    if (!(error instanceof MannWhitneyError)) throw error;
    return { label: 'Error', critical: false, reason: `Metric classification failed: ${error.message}`, evidence: { rule: 'error', message: error.message }, meanRatio: ratio };
  }
}

function noData(config: MetricJudgeConfig, missing: string): Omit<Verdict, 'meanRatio'> {
  const evidence: MetricEvidence = { rule: 'no-data' };
  if (config.nanStrategy === 'replace') return { label: 'Pass', critical: false, reason: `${missing} no data; with nanStrategy replace that counts as a pass`, evidence };
  if (config.mustHaveData && !config.critical) return { label: 'NodataFailMetric', critical: false, reason: `${missing} no data and the metric must have data`, evidence };
  return { label: 'Nodata', critical: config.critical, reason: `${missing} no data`, evidence };
}

function compare(config: MetricJudgeConfig, ctl: number[], exp: number[], tieNoiseAdded: boolean, options: ClassifyOptions): Verdict {
  let x = exp;
  let y = ctl;
  if (tieNoiseAdded) {
    const noise = options.noise ?? seededNoiseFor(config.name, ctl, exp);
    x = exp.map((value) => value + noise(value * TIE_NOISE_FACTOR));
    y = ctl.map((value) => value + noise(value * TIE_NOISE_FACTOR));
  }
  const interval = mannWhitneyInterval(x, y, CONFIDENCE_LEVEL);
  const effect = effectSize(config.effectSize.measure, x, y);
  const bound = TOLERANCE_FRACTION * Math.abs(interval.estimate);
  const comparison: Comparison = {
    confidenceLevel: CONFIDENCE_LEVEL,
    interval,
    toleranceFraction: TOLERANCE_FRACTION,
    toleranceBound: bound,
    effectSize: { measure: config.effectSize.measure, value: finiteOrNull(effect) },
    tieNoiseAdded,
  };

  const { allowedIncrease, allowedDecrease, criticalIncrease, criticalDecrease, measure } = config.effectSize;
  const gateOpen = Number.isNaN(effect);
  const ci = `the ${CONFIDENCE_LEVEL * 100}% interval [${fmt(interval.lower)}, ${fmt(interval.upper)}] of the shift (estimate ${fmt(interval.estimate)})`;
  // A mean ratio over a zero mean has no value: Kayenta then skips the effect-size gate, and so do we.
  const gate = (verb: string, limit: number) => (gateOpen ? `the effect-size gate does not apply (${measure} has no value: a mean is 0)` : `${measure} ${fmt(effect)} ${verb} ${limit}`);
  let label: MetricLabel = 'Pass';
  let critical = false;
  let reason: string;
  const highSide = config.direction !== 'decrease' && interval.lower > bound;
  const lowSide = config.direction !== 'increase' && interval.upper < -bound;
  if (highSide && (gateOpen || effect >= allowedIncrease)) {
    label = 'High';
    critical = config.critical && (gateOpen || effect >= criticalIncrease);
    reason = `The metric was classified as High: ${ci} lies above the tolerance +${fmt(bound)} and ${gate('reaches the allowed increase', allowedIncrease)}`;
  } else if (lowSide && (gateOpen || effect <= allowedDecrease)) {
    label = 'Low';
    critical = config.critical && (gateOpen || effect <= criticalDecrease);
    reason = `The metric was classified as Low: ${ci} lies below the tolerance −${fmt(bound)} and ${gate('reaches the allowed decrease', allowedDecrease)}`;
  } else if (highSide || lowSide) {
    reason = `Pass: ${ci} lies ${highSide ? 'above' : 'below'} the tolerance ±${fmt(bound)}, but ${gate(`is within the allowed ${highSide ? 'increase' : 'decrease'}`, highSide ? allowedIncrease : allowedDecrease)}`;
  } else {
    reason = `Pass: ${ci} does not lie beyond the tolerance ±${fmt(bound)} in a direction that fails (${config.direction})`;
  }
  if (critical) reason += '; the metric is critical';
  else if (label !== 'Pass' && config.critical) reason += '; the metric is critical, but the effect is within its critical limit';

  const spread = options.spreadCheck ? runSpreadCheck(options.spreadCheck, config.direction, config.critical, ctl, exp) : null;
  if (label === 'Pass' && spread?.outcome === 'fail') {
    return { label: spread.label, critical: spread.critical, reason: spread.reason, evidence: { rule: 'compared', decidedBy: 'spread-check', comparison, spread }, meanRatio: meanRatio(x, y) };
  }
  return { label, critical, reason, evidence: { rule: 'compared', decidedBy: 'mann-whitney', comparison, spread }, meanRatio: meanRatio(x, y) };
}

export function seriesStats(values: readonly number[]): SeriesStats {
  if (values.length === 0) return { count: 0, min: null, max: null, mean: null, std: null };
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { count: values.length, min: finiteOrNull(min), max: finiteOrNull(max), mean: finiteOrNull(mean(values)), std: finiteOrNull(sampleStd(values)) };
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value + 0 : null; // + 0: -0 would come back from JSON as 0
}

function fmt(value: number): string {
  return Number.parseFloat(value.toPrecision(4)).toString();
}
