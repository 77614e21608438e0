/**
 * Summaries of a sample. Percentiles use the nearest-rank method (no interpolation): every figure
 * printed is a latency some request really had, and p99 of 300 samples is the 3rd-slowest.
 */

export interface Summary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

export function percentile(sortedAscending: readonly number[], percent: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const rank = Math.ceil((percent / 100) * sortedAscending.length);
  return sortedAscending[Math.min(Math.max(rank, 1), sortedAscending.length) - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
  };
}

/** Milliseconds to two decimals in JSON: finer digits are noise from the timer, not signal. */
export function roundMs(value: number): number {
  return Math.round(value * 100) / 100;
}
