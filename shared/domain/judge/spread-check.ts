/**
 * The spread-and-tail check: what Kayenta's judge misses (spinnaker/kayenta#780 "a jump in
 * variability"; spinnaker/spinnaker#6278, where canary [100×7, 1×3] against baseline [1×10]
 * passes because the Mann-Whitney interval's lower bound sits at the tie, ≈7e-5). Mann-Whitney
 * asks "did the location move?"; this asks "did the distribution get wider, or its bad tail worse?".
 *
 * The rule, on the cleaned series, when both hold at least `minPoints` points:
 * - Spread: ratio = spread(canary) / spread(baseline), spread being the IQR (default) or the
 *   sample std. 0/0 counts as 1 (both constant); x/0 with x > 0 as unbounded. Fails when
 *   ratio > maxSpreadRatio (default 2) AND the canary's tail on the bad side lies beyond the
 *   baseline's (p_t higher for `increase`, p_(100−t) lower for `decrease`, either for `either`):
 *   a spread that grew only towards the good side (a throughput metric whose canary got faster
 *   on some points) is not a regression.
 * - Tail, in the metric's bad direction, t = tailPercentile (default 99):
 *   `increase` compares the high tails: ratio = p_t(canary) / p_t(baseline);
 *   `decrease` the low tails: ratio = p_(100−t)(baseline) / p_(100−t)(canary);
 *   `either` both, and the worse one counts. Written as 1 + excess/|reference| so it stays
 *   monotone through 0; it is meant for non-negative metrics (latency, rates, throughput), where
 *   it is the plain ratio. A zero reference with any excess is unbounded. Fails when
 *   ratio > maxTailRatio (default 1.5).
 * - A failure is High for `increase`, Low for `decrease`, and for `either` the side whose tail
 *   moved out more. On a critical metric it is critical when the failing ratio reaches
 *   criticalSpreadRatio / criticalTailRatio (defaults: the max ratios, so by default a critical
 *   metric failing the check fails the canary, as Kayenta's default critical effect sizes do).
 *
 * The check only adds failures: classify-metric.ts keeps Mann-Whitney's High/Low when it has one,
 * and never runs the check on identical or single-valued data, which therefore still pass.
 */
import { percentileR7, sampleStd, sortedAscending } from './statistics.js';
import type { SpreadCheckResult, SpreadStats } from './results.js';
import type { MetricDirection, SpreadCheckConfig } from './types.js';

export function runSpreadCheck(config: SpreadCheckConfig, direction: MetricDirection, metricIsCritical: boolean, control: readonly number[], experiment: readonly number[]): SpreadCheckResult {
  const fewest = Math.min(control.length, experiment.length);
  if (fewest < config.minPoints) {
    return { outcome: 'skipped', reason: `fewer than ${config.minPoints} points in a series (${control.length} baseline, ${experiment.length} canary)`, config };
  }
  const baseline = spreadStats(control, config.tailPercentile);
  const canary = spreadStats(experiment, config.tailPercentile);

  const spreadOf = (stats: SpreadStats) => (config.measure === 'std' ? stats.std : stats.iqr);
  const spreadRatio = ratioOf(spreadOf(canary) - spreadOf(baseline), spreadOf(baseline));
  const highTailRatio = ratioOf(canary.tailHigh - baseline.tailHigh, baseline.tailHigh);
  const lowTailRatio = ratioOf(baseline.tailLow - canary.tailLow, canary.tailLow);
  const tailRatio = direction === 'increase' ? highTailRatio : direction === 'decrease' ? lowTailRatio : Math.max(highTailRatio, lowTailRatio);
  const label = direction === 'increase' ? 'High' : direction === 'decrease' ? 'Low' : highTailRatio >= lowTailRatio ? 'High' : 'Low';

  const highWorse = canary.tailHigh > baseline.tailHigh;
  const lowWorse = canary.tailLow < baseline.tailLow;
  const badSideWorse = direction === 'increase' ? highWorse : direction === 'decrease' ? lowWorse : highWorse || lowWorse;
  const spreadFailed = spreadRatio > config.maxSpreadRatio && badSideWorse;
  const tailFailed = tailRatio > config.maxTailRatio;
  const critical = metricIsCritical && ((spreadFailed && spreadRatio >= config.criticalSpreadRatio) || (tailFailed && tailRatio >= config.criticalTailRatio));

  const findings: string[] = [];
  if (spreadFailed) findings.push(`canary ${config.measure} ${fmt(spreadOf(canary))} against the baseline's ${fmt(spreadOf(baseline))} (ratio ${describeRatio(spreadRatio)}, limit ${config.maxSpreadRatio}×)`);
  if (tailFailed) {
    const side = label === 'High' ? 'high' : 'low';
    const [c, b] = label === 'High' ? [canary.tailHigh, baseline.tailHigh] : [canary.tailLow, baseline.tailLow];
    const p = label === 'High' ? config.tailPercentile : 100 - config.tailPercentile;
    findings.push(`canary p${p} ${fmt(c)} against the baseline's ${fmt(b)} on the ${side} tail (ratio ${describeRatio(tailRatio)}, limit ${config.maxTailRatio}×)`);
  }
  return {
    outcome: spreadFailed || tailFailed ? 'fail' : 'pass',
    config,
    control: baseline,
    experiment: canary,
    spreadRatio: finiteOrNull(spreadRatio),
    spreadFailed,
    tailRatio: finiteOrNull(tailRatio),
    tailFailed,
    label,
    critical,
    reason: findings.length > 0 ? `The metric was classified as ${label} by the spread and tail check: ${findings.join('; ')}` : 'spread and tail within limits',
  };
}

export function spreadStats(values: readonly number[], tailPercentile: number): SpreadStats {
  const sorted = sortedAscending(values);
  const p25 = percentileR7(sorted, 25);
  const p75 = percentileR7(sorted, 75);
  return {
    p1: percentileR7(sorted, 1),
    p25,
    p50: percentileR7(sorted, 50),
    p75,
    p99: percentileR7(sorted, 99),
    tailLow: percentileR7(sorted, 100 - tailPercentile),
    tailHigh: percentileR7(sorted, tailPercentile),
    iqr: p75 - p25,
    std: sampleStd(values),
  };
}

/** 1 + excess/|reference|: how many times worse; unbounded for excess over a zero reference. */
function ratioOf(excess: number, reference: number): number {
  if (reference !== 0) return 1 + excess / Math.abs(reference);
  return excess > 0 ? Number.POSITIVE_INFINITY : 1;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value + 0 : null; // + 0: -0 would come back from JSON as 0
}

function describeRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${fmt(ratio)}×` : 'unbounded';
}

function fmt(value: number): string {
  return Number.parseFloat(value.toPrecision(4)).toString();
}
