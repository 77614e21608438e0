/**
 * The verdict over a run of judgments, as Spinnaker's canary stage and Kayenta's standalone
 * endpoint reach it (orca-kayenta RunCanaryIntervalsStage, MonitorKayentaCanaryTask):
 *
 * - A run makes N = ⌊lifetime / interval⌋ judgments; the interval defaults to the lifetime and is
 *   capped at it.
 * - After each judgment, a score ≤ marginal ends the run as a failure at once.
 * - When all N are in, the last score alone decides: ≤ marginal fails, < pass fails, else passes.
 * - Without thresholds, the run passes.
 *
 * Note the `≤`: a score exactly at `marginal` is classified "Marginal" by the judge (score.ts) but
 * fails the run, because the stage compares with ≤. Kept, so crossfade ends runs where Spinnaker does.
 */
import { ValidationError } from '../errors.js';
import type { ScoreThresholds } from './types.js';

export type RunVerdict =
  | { status: 'running'; judgmentsDone: number; judgmentsPlanned: number }
  | { status: 'failed'; judgment: number; score: number; reason: string }
  | { status: 'passed'; judgment: number; score: number; reason: string };

/** How many judgments a run of `lifetimeSeconds` makes, one every `intervalSeconds`. */
export function judgmentCount(lifetimeSeconds: number, intervalSeconds?: number): number {
  if (!(lifetimeSeconds > 0) || !Number.isFinite(lifetimeSeconds)) throw new ValidationError('lifetimeSeconds must be a positive number', 'lifetimeSeconds', 'positive');
  if (intervalSeconds !== undefined && (!(intervalSeconds > 0) || !Number.isFinite(intervalSeconds))) {
    throw new ValidationError('intervalSeconds must be a positive number', 'intervalSeconds', 'positive');
  }
  const interval = Math.min(intervalSeconds ?? lifetimeSeconds, lifetimeSeconds);
  return Math.floor(lifetimeSeconds / interval);
}

/** After one judgment: does the run go on? `false` when the score is at or below marginal. */
export function continuesAfter(score: number, thresholds: ScoreThresholds | undefined): boolean {
  return thresholds === undefined || score > thresholds.marginal;
}

/**
 * The run's verdict from the scores so far (judgment 1 first). `judgment` in a result is 1-based.
 * Throws ValidationError when there are more scores than planned judgments.
 */
export function runVerdict(scores: readonly number[], judgmentsPlanned: number, thresholds?: ScoreThresholds): RunVerdict {
  if (!Number.isInteger(judgmentsPlanned) || judgmentsPlanned < 1) throw new ValidationError('judgmentsPlanned must be a whole number of at least 1', 'judgmentsPlanned', 'positive-integer');
  if (scores.length > judgmentsPlanned) throw new ValidationError(`${scores.length} scores for ${judgmentsPlanned} planned judgments`, 'scores', 'at-most-planned');
  for (let index = 0; index < scores.length; index++) {
    const score = scores[index]!;
    if (!continuesAfter(score, thresholds)) {
      return { status: 'failed', judgment: index + 1, score, reason: `judgment ${index + 1} scored ${score}, at or below the marginal threshold ${thresholds!.marginal}` };
    }
  }
  if (scores.length < judgmentsPlanned) return { status: 'running', judgmentsDone: scores.length, judgmentsPlanned };

  const judgment = scores.length;
  const score = scores[judgment - 1]!;
  if (thresholds === undefined) return { status: 'passed', judgment, score, reason: 'no score thresholds are set' };
  if (score < thresholds.pass) return { status: 'failed', judgment, score, reason: `the last judgment scored ${score}, below the pass threshold ${thresholds.pass}` };
  return { status: 'passed', judgment, score, reason: `the last judgment scored ${score}, at or above the pass threshold ${thresholds.pass}` };
}
