/**
 * Scoring one judgment: Kayenta's WeightedSumScorer and ThresholdScoreClassifier.
 *
 * 1. Muted metrics are left out (they stay in the report).
 * 2. Per group (a metric in several groups counts in each): score = 100·Pass / (Pass + High + Low
 *    + NodataFailMetric). Nodata and Error count in neither. A group with nothing counted is
 *    noData: reported as 0, counted as 100 in the summary (no evidence against the canary).
 * 3. Overrides, in order: any critical non-Pass result → 0, the reason being the first such
 *    failure (config order); else ≥ 50% of the scored metrics Nodata → 0.
 * 4. Otherwise Σ effective_g · w_g / 100, rounded half-up to 2 decimals; groups without a weight
 *    share (100 − Σ given weights) equally.
 * 5. score ≥ pass → Pass; ≥ marginal → Marginal; else Fail.
 */
import { roundHalfUp } from './statistics.js';
import type { GroupScore, JudgeSummary, MetricResult, ScoreOverride } from './results.js';
import type { MetricLabel, ScoreClassification, ScoreThresholds } from './types.js';

/** Kayenta's NODATA_THRESHOLD: this share (percent) of Nodata metrics or more fails the judgment. */
export const NODATA_THRESHOLD_PERCENT = 50;

export interface Scores {
  groups: GroupScore[];
  summary: JudgeSummary;
}

export function scoreJudgment(results: readonly MetricResult[], groupWeights: Readonly<Record<string, number>>, thresholds: ScoreThresholds): Scores {
  const scored = results.filter((result) => !result.muted);
  const groups = groupScores(scored, groupWeights);
  const override = overrideOf(scored);
  const score = override ? 0 : roundHalfUp(groups.reduce((sum, group) => sum + ((group.noData ? 100 : group.score) * group.weight) / 100, 0), 2);
  return {
    groups,
    summary: { score, classification: classifyScore(score, thresholds), reason: override ? reasonOf(override) : null, override, thresholds: { ...thresholds } },
  };
}

export function classifyScore(score: number, thresholds: ScoreThresholds): ScoreClassification {
  if (score >= thresholds.pass) return 'Pass';
  if (score >= thresholds.marginal) return 'Marginal';
  return 'Fail';
}

function groupScores(scored: readonly MetricResult[], groupWeights: Readonly<Record<string, number>>): GroupScore[] {
  const labelsByGroup = new Map<string, MetricLabel[]>();
  for (const result of scored) {
    for (const group of result.groups) {
      const labels = labelsByGroup.get(group) ?? [];
      labels.push(result.label);
      labelsByGroup.set(group, labels);
    }
  }
  const givenTotal = Object.values(groupWeights).reduce((sum, weight) => sum + weight, 0);
  const unweighted = [...labelsByGroup.keys()].filter((group) => !Object.hasOwn(groupWeights, group)).length;
  const sharedWeight = unweighted > 0 ? (100 - givenTotal) / unweighted : 0;

  return [...labelsByGroup].map(([group, labels]) => {
    const counts: Record<MetricLabel, number> = { Pass: 0, High: 0, Low: 0, Nodata: 0, NodataFailMetric: 0, Error: 0 };
    for (const label of labels) counts[label]++;
    const counted = counts.Pass + counts.High + counts.Low + counts.NodataFailMetric;
    const noData = counted === 0;
    return {
      group,
      score: noData ? 0 : (100 * counts.Pass) / counted,
      noData,
      weight: Object.hasOwn(groupWeights, group) ? groupWeights[group]! : sharedWeight,
      counts,
    };
  });
}

function overrideOf(scored: readonly MetricResult[]): ScoreOverride | null {
  if (scored.length === 0) return { kind: 'nothing-to-score' };
  const criticalFailure = scored.find((result) => result.critical && result.label !== 'Pass');
  if (criticalFailure) return { kind: 'critical-failure', metric: criticalFailure.metric, reason: criticalFailure.reason };
  const nodataPercent = (100 * scored.filter((result) => result.label === 'Nodata').length) / scored.length;
  if (nodataPercent >= NODATA_THRESHOLD_PERCENT) return { kind: 'too-much-nodata', nodataPercent };
  return null;
}

function reasonOf(override: ScoreOverride): string {
  switch (override.kind) {
    case 'critical-failure':
      return `Canary Failed: critical metric ${override.metric}: ${override.reason}`;
    case 'too-much-nodata':
      return `Canary Failed: ${NODATA_THRESHOLD_PERCENT}% or more metrics returned NODATA (${roundHalfUp(override.nodataPercent, 2)}%)`;
    case 'nothing-to-score':
      return 'Canary Failed: every metric is muted, nothing to score';
  }
}
