/**
 * Cleaning one series before it is judged (Kayenta Transforms.scala, IQRDetector.scala):
 *
 * 1. NaN points: strategy `remove` drops them; `replace` turns them into 0 (for counts, where a
 *    missing point means nothing happened).
 * 2. Outliers, only with strategy `remove`: points outside [lower, upper] are dropped, where
 *    lower = min(P1, Q1 − k·IQR) and upper = max(P99, Q3 + k·IQR), percentiles by R-7. Taking the
 *    wider of the IQR fence and P1/P99 is Kayenta's "reduced sensitivity": it never drops more
 *    than the outer 1% on either side.
 */
import { percentileR7, sortedAscending } from './statistics.js';
import type { CleaningReport } from './results.js';
import type { NanStrategy, OutlierConfig } from './types.js';

export interface CleanedSeries {
  values: number[];
  report: CleaningReport;
}

export function cleanSeries(values: readonly number[], nanStrategy: NanStrategy, outliers: OutlierConfig): CleanedSeries {
  let nanPoints = 0;
  const withoutNaN: number[] = [];
  for (const value of values) {
    if (Number.isNaN(value)) {
      nanPoints++;
      if (nanStrategy === 'replace') withoutNaN.push(0);
    } else {
      withoutNaN.push(value);
    }
  }
  // Fences around an infinite value are NaN; such a series is an Error for the classifier anyway.
  if (outliers.strategy === 'keep' || withoutNaN.length === 0 || !withoutNaN.every(Number.isFinite)) {
    return { values: withoutNaN, report: { received: values.length, nanPoints, outliersRemoved: 0, fences: null } };
  }
  const fences = outlierFences(sortedAscending(withoutNaN), outliers.factor);
  const kept = withoutNaN.filter((value) => value >= fences.lower && value <= fences.upper);
  return { values: kept, report: { received: values.length, nanPoints, outliersRemoved: withoutNaN.length - kept.length, fences } };
}

/** Kayenta's reduced-sensitivity IQR fences for an ascending, non-empty series. */
export function outlierFences(sorted: ArrayLike<number>, factor: number): { lower: number; upper: number } {
  const q1 = percentileR7(sorted, 25);
  const q3 = percentileR7(sorted, 75);
  const iqr = q3 - q1;
  return {
    lower: Math.min(percentileR7(sorted, 1), q1 - factor * iqr),
    upper: Math.max(percentileR7(sorted, 99), q3 + factor * iqr),
  };
}
