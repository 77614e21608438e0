/**
 * Descriptive statistics as Kayenta computes them (Apache Commons Math): R-7 percentiles, sample
 * standard deviation, average ranks for ties. Pure functions over plain arrays.
 */

/** The arithmetic mean; NaN for an empty series. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let total = 0;
  for (const value of values) total += value;
  return total / values.length;
}

/**
 * Sample standard deviation (n − 1 in the denominator, Commons Math's bias-corrected default):
 * NaN for an empty series, 0 for a single point. Two passes, for accuracy on large offsets.
 */
export function sampleStd(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  if (values.length === 1) return 0;
  const centre = mean(values);
  let squares = 0;
  let deviations = 0;
  for (const value of values) {
    const d = value - centre;
    squares += d * d;
    deviations += d;
  }
  // The second term corrects rounding in the mean (Commons Math's corrected two-pass algorithm).
  return Math.sqrt((squares - (deviations * deviations) / values.length) / (values.length - 1));
}

/** A sorted copy, ascending: numeric (not the default string order), NaN last. */
export function sortedAscending(values: readonly number[]): number[] {
  return Array.from(Float64Array.from(values).sort());
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of an ascending array by Hyndman & Fan's definition 7, R's
 * default and Commons Math's `EstimationType.R_7`: h = (n − 1)·p/100, interpolating linearly
 * between the values around h. NaN for an empty array.
 */
export function percentileR7(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (n === 1 || p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[n - 1]!;
  const h = ((n - 1) * p) / 100;
  const low = Math.floor(h);
  const lowValue = sorted[low]!;
  // An exact rank needs no interpolation (and 0 · ∞ would make it NaN beside an infinite value).
  if (h === low || low + 1 >= n) return lowValue;
  return lowValue + (h - low) * (sorted[low + 1]! - lowValue);
}

/**
 * 1-based ranks of `values` in their pooled order, ties sharing the average of the ranks they span
 * (Commons Math `NaturalRanking(NaNStrategy.MAXIMAL, TiesStrategy.AVERAGE)`: NaN ranks highest).
 */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, index) => index).sort((a, b) => compareNanLast(values[a]!, values[b]!));
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && sameValue(values[order[end]!]!, values[order[start]!]!)) end++;
    const rank = (start + 1 + end) / 2; // average of ranks start+1 .. end
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

/** Σ (t³ − t) over groups of t tied values: the tie term of the rank-sum variance. */
export function tieTerm(sorted: ArrayLike<number>): number {
  let total = 0;
  let start = 0;
  while (start < sorted.length) {
    let end = start + 1;
    while (end < sorted.length && sorted[end] === sorted[start]) end++;
    const t = end - start;
    total += t * t * t - t;
    start = end;
  }
  return total;
}

/** True when both arrays hold the same values with the same multiplicity (Kayenta's "identical samples"). */
export function sameSortedValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i]!, b[i]!)) return false;
  return true;
}

/** How many distinct values an ascending array holds. */
export function distinctCount(sorted: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || !sameValue(sorted[i]!, sorted[i - 1]!)) count++;
  return count;
}

function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function compareNanLast(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a - b;
}

/** Rounds half up to `decimals` places on the shortest decimal form, as Commons `MathUtils.round`. */
export function roundHalfUp(value: number, decimals: number): number {
  if (!Number.isFinite(value)) return value;
  const text = String(Math.abs(value));
  const scaled = text.includes('e') ? Math.abs(value) * 10 ** decimals : Number(`${text}e${decimals}`);
  const rounded = Math.floor(scaled + 0.5) / 10 ** decimals;
  return value < 0 ? -rounded : rounded;
}
