/**
 * The Mann-Whitney (Wilcoxon rank-sum) confidence interval for a location shift, as R's
 * `wilcox.test(x, y, conf.int = TRUE, exact = FALSE, correct = TRUE)` computes it and Kayenta's
 * MannWhitney.scala ports it: the normal approximation with tie and continuity corrections,
 * inverted by root finding (R: src/library/stats/R/wilcox.test.R, `wdiff` and `root`).
 *
 * For a candidate shift d, rank (x − d) pooled with y; W = Σ ranks of x − m(m+1)/2, D = W − mn/2,
 * σ² = (mn/12)·((m+n+1) − Σ(t³−t)/((m+n)(m+n−1))) over groups of t ties, and
 * z(d) = (D − ½·sign D)/σ, a step function falling as d grows. The bounds solve z = ±q with
 * q = Φ⁻¹(1 − α/2), the estimate solves z = 0, all by Brent's method over
 * [min x − max y, max x − min y] with R's tolerance 1e-4 (absolute, in the metric's units).
 */
import { brentRoot } from './brent.js';
import { normalQuantile } from './normal-quantile.js';
import { sortedAscending } from './statistics.js';
import type { ShiftInterval } from './results.js';

/** R's `uniroot` tolerance in wilcox.test, and its iteration cap. */
const ROOT_OPTIONS = { tolerance: 1e-4, maxIterations: 1000 } as const;

/** The test cannot run on this data: all observations tied, or a value that is not finite. */
export class MannWhitneyError extends Error {
  override readonly name = 'MannWhitneyError';
}

/**
 * z(d) for x shifted by d against y, both ascending. Ranking a merge of the two sorted arrays gives
 * the same ranks as sorting the pool (x − d keeps x's order), in O(m + n) per evaluation.
 */
export function wilcoxonZ(xSorted: ArrayLike<number>, ySorted: ArrayLike<number>, shift: number): number {
  const m = xSorted.length;
  const n = ySorted.length;
  let i = 0;
  let j = 0;
  let position = 0; // values ranked so far
  let rankSumX = 0;
  let ties = 0;
  while (i < m || j < n) {
    const xNext = i < m ? xSorted[i]! - shift : Number.POSITIVE_INFINITY;
    const yNext = j < n ? ySorted[j]! : Number.POSITIVE_INFINITY;
    const value = xNext <= yNext ? xNext : yNext;
    let fromX = 0;
    while (i < m && xSorted[i]! - shift === value) {
      fromX++;
      i++;
    }
    let fromY = 0;
    while (j < n && ySorted[j]! === value) {
      fromY++;
      j++;
    }
    const t = fromX + fromY;
    rankSumX += fromX * (position + (t + 1) / 2);
    ties += t * t * t - t;
    position += t;
  }
  const dz = rankSumX - (m * (m + 1)) / 2 - (m * n) / 2;
  const correction = Math.sign(dz) * 0.5;
  const sigma = Math.sqrt(((m * n) / 12) * (m + n + 1 - ties / ((m + n) * (m + n - 1))));
  if (sigma === 0 || Number.isNaN(sigma)) throw new MannWhitneyError('cannot compute confidence interval when all observations are tied');
  return (dz - correction) / sigma;
}

/**
 * The `confidenceLevel` interval and Hodges-Lehmann-style estimate of the shift x − y (x: the
 * experiment, y: the control). Throws MannWhitneyError when a sample is empty, holds a non-finite
 * value, or all observations are tied.
 */
export function mannWhitneyInterval(x: readonly number[], y: readonly number[], confidenceLevel: number): ShiftInterval {
  if (x.length === 0 || y.length === 0) throw new MannWhitneyError('both samples need at least one value');
  if (!x.every(Number.isFinite) || !y.every(Number.isFinite)) throw new MannWhitneyError('a sample holds a value that is not a finite number');
  const xs = sortedAscending(x);
  const ys = sortedAscending(y);
  const lowEnd = xs[0]! - ys[ys.length - 1]!;
  const highEnd = xs[xs.length - 1]! - ys[0]!;
  const q = normalQuantile(1 - (1 - confidenceLevel) / 2);

  const zAt = (shift: number) => wilcoxonZ(xs, ys, shift);
  const zLow = zAt(lowEnd);
  const zHigh = zAt(highEnd);

  // R's `root`: a bound at an end of the range when z − target has no sign change inside it.
  const bound = (target: number): number => {
    const fLower = zLow - target;
    const fUpper = zHigh - target;
    if (fLower <= 0) return lowEnd;
    if (fUpper >= 0) return highEnd;
    return brentRoot((shift) => zAt(shift) - target, lowEnd, highEnd, fLower, fUpper, ROOT_OPTIONS);
  };

  let estimate: number;
  try {
    estimate = brentRoot(zAt, lowEnd, highEnd, zLow, zHigh, ROOT_OPTIONS);
  } catch (error) {
    throw new MannWhitneyError(`no estimate: ${(error as Error).message}`);
  }
  return { lower: bound(q), upper: bound(-q), estimate };
}
