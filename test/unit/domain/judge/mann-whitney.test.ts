/**
 * The Mann-Whitney interval (shared/domain/judge/mann-whitney.ts), checked three independent ways:
 *
 * 1. Against reference numbers from a separate implementation of R's wilcox.test formulas in Python
 *    (scipy 1.17: `rankdata` for the ranks, `norm.ppf` for q, `brentq(xtol=1e-9)` for the roots):
 *
 *      def z(x, y, d):
 *          r = rankdata(concatenate([x - d, y])); dz = r[:m].sum() - m*(m+1)/2 - m*n/2
 *          _, t = unique(r, return_counts=True)
 *          return (dz - sign(dz)*0.5) / sqrt(m*n/12*((m+n+1) - (t**3-t).sum()/((m+n)*(m+n-1))))
 *
 *    R (and the port) stop within uniroot's tolerance 1e-4 of the jump of this step function, the
 *    reference within 1e-9, so the two agree to 1e-4.
 * 2. By brute force in this file: z(d) from counting pairs (no ranking), which must cross ±q and 0
 *    within 1e-4 of the bounds and the estimate; and the estimate against the Hodges-Lehmann median
 *    of pairwise differences.
 * 3. By properties over random integer samples (fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MannWhitneyError, mannWhitneyInterval, wilcoxonZ } from '../../../../shared/domain/judge/mann-whitney.js';
import { normalQuantile } from '../../../../shared/domain/judge/normal-quantile.js';

const Q98 = 2.3263478740408408; // qnorm(0.99)
const TOL = 1e-4; // R's uniroot tolerance in wilcox.test

/** z(d) by counting pairs: U = #(x−d > y) + ½#(x−d = y); ties from a value count of the pool. */
function bruteZ(x: readonly number[], y: readonly number[], d: number): number {
  const m = x.length;
  const n = y.length;
  let u = 0;
  for (const xi of x) for (const yj of y) u += xi - d > yj ? 1 : xi - d === yj ? 0.5 : 0;
  const counts = new Map<number, number>();
  for (const v of [...x.map((xi) => xi - d), ...y]) counts.set(v, (counts.get(v) ?? 0) + 1);
  let ties = 0;
  for (const t of counts.values()) ties += t ** 3 - t;
  const dz = u - (m * n) / 2;
  return (dz - Math.sign(dz) * 0.5) / Math.sqrt(((m * n) / 12) * (m + n + 1 - ties / ((m + n) * (m + n - 1))));
}

function pairwiseDifferences(x: readonly number[], y: readonly number[]): number[] {
  return x.flatMap((xi) => y.map((yj) => xi - yj)).sort((a, b) => a - b);
}

const REFERENCE = [
  {
    name: "R's ?wilcox.test example (depression scores)",
    x: [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46],
    y: [1.15, 0.88, 0.9, 0.74, 1.21],
    lower: -0.32,
    upper: 0.99,
    estimate: 0.300149,
  },
  { name: 'integers with many ties', x: [3, 4, 4, 5, 5, 5, 6, 6, 7, 9, 10, 12], y: [1, 2, 2, 3, 3, 4, 4, 4, 5, 6], lower: 0, upper: 5, estimate: 2 },
  {
    name: 'latency-like samples, canary 15 ms slower',
    x: [69.61, 72.1, 67.4, 62.77, 66.0, 62.05, 70.09, 81.76, 65.71, 64.75, 73.76, 72.6, 70.47, 62.49, 69.36, 75.6, 59.63, 65.98, 56.05, 60.0, 56.42, 67.71, 60.15, 71.87, 70.9, 68.09, 52.43, 65.36, 69.2, 70.53, 58.4, 65.82, 62.14, 63.36, 79.02, 63.37, 69.33, 77.34, 65.02, 68.69],
    y: [55.51, 55.12, 45.43, 55.23, 66.94, 43.29, 62.11, 55.58, 49.59, 73.7, 61.21, 45.61, 55.21, 59.53, 53.07, 60.49, 54.06, 60.35, 67.75, 49.34, 56.29, 50.93, 55.65, 45.69, 50.05, 53.01, 62.48, 64.83, 44.77, 48.46],
    lower: 7.54,
    upper: 15.78,
    estimate: 11.755247,
  },
  {
    name: 'two samples of one distribution',
    x: [103.23, 90.04, 97.68, 99.51, 106.29, 103.45, 98.36, 98.16, 98.75, 107.62, 97.86, 98.48, 101.76, 99.4, 99.01, 94.43, 99.94, 97.78, 105.83, 103.27, 99.88, 103.34, 98.3, 105.26, 99.97, 102.92, 93.55, 101.73, 91.56, 89.82, 98.48, 95.5, 100.82, 111.22, 95.84],
    y: [96.88, 101.03, 102.47, 99.12, 98.97, 103.51, 102.6, 94.83, 99.6, 100.18, 94.73, 101.3, 95.71, 104.86, 100.96, 100.45, 97.04, 99.41, 90.01, 94.34, 101.81, 89.36, 104.23, 91.27, 103.78, 95.77, 103.89, 100.65, 92.32, 106.25, 107.21, 99.67, 98.63, 99.2, 95.12, 105.49, 97.29, 99.74, 96.03, 96.87, 93.61, 106.29, 99.23, 104.83, 100.07],
    lower: -1.95,
    upper: 2.82,
    estimate: 0.210194,
  },
];

describe('mannWhitneyInterval', () => {
  it('uses q = Φ⁻¹(0.99) at 98% confidence', () => {
    expect(normalQuantile(0.99)).toBeCloseTo(Q98, 14);
  });

  it.each(REFERENCE)('$name: matches the scipy reference to R’s tolerance', ({ x, y, lower, upper, estimate }) => {
    const interval = mannWhitneyInterval(x, y, 0.98);

    expect(Math.abs(interval.lower - lower)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(interval.upper - upper)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(interval.estimate - estimate)).toBeLessThanOrEqual(TOL);
  });

  it.each(REFERENCE)('$name: the bounds are where the brute-force z crosses ±q, the estimate where it crosses 0', ({ x, y }) => {
    const { lower, upper, estimate } = mannWhitneyInterval(x, y, 0.98);

    expect(bruteZ(x, y, lower - TOL)).toBeGreaterThanOrEqual(Q98);
    expect(bruteZ(x, y, lower + TOL)).toBeLessThan(Q98);
    expect(bruteZ(x, y, upper - TOL)).toBeGreaterThan(-Q98);
    expect(bruteZ(x, y, upper + TOL)).toBeLessThanOrEqual(-Q98);
    expect(bruteZ(x, y, estimate - TOL)).toBeGreaterThanOrEqual(0);
    expect(bruteZ(x, y, estimate + TOL)).toBeLessThanOrEqual(0);
  });

  it.each(REFERENCE)('$name: the estimate is the Hodges-Lehmann median of pairwise differences, give or take one step', ({ x, y }) => {
    // z = 0 wherever D = ±½ (the continuity correction), which spans one pairwise difference
    // either side of the median; the root finder stops anywhere in there.
    const differences = pairwiseDifferences(x, y);
    const low = differences[Math.floor((differences.length - 1) / 2) - 1]!;
    const high = differences[Math.ceil((differences.length - 1) / 2) + 1]!;

    const { estimate } = mannWhitneyInterval(x, y, 0.98);

    expect(estimate).toBeGreaterThanOrEqual(low - TOL);
    expect(estimate).toBeLessThanOrEqual(high + TOL);
  });

  it('spinnaker/spinnaker#6278: canary [100×7, 1×3] against [1×10] gives est ≈ 99 and lo ≈ 7e-5 (the lower bound sits at the tie)', () => {
    const { lower, upper, estimate } = mannWhitneyInterval([...Array(7).fill(100), 1, 1, 1], Array(10).fill(1), 0.98);

    expect(estimate).toBeCloseTo(99, 3);
    expect(lower).toBeGreaterThan(0);
    expect(lower).toBeLessThan(TOL); // R's zeroin stops within its tolerance of the jump at 0
    expect(lower).toBeCloseTo(6.825e-5, 8);
    expect(upper).toBeCloseTo(99, 3);
  });

  it('returns an end of the search range when z does not reach ±q inside it', () => {
    // Three points each: |z| never reaches 2.33, so R's root() returns the ends [min x − max y, max x − min y].
    const x = [1, 2, 3];
    const y = [2, 3, 4];
    expect(bruteZ(x, y, 1 - 4)).toBeLessThan(Q98);
    const { lower, upper } = mannWhitneyInterval(x, y, 0.98);
    expect([lower, upper]).toEqual([1 - 4, 3 - 2]);
  });

  it('refuses all-tied or non-finite data with MannWhitneyError', () => {
    expect(() => mannWhitneyInterval([1, 1], [1, 1], 0.98)).toThrow(MannWhitneyError);
    expect(() => mannWhitneyInterval([1, Number.POSITIVE_INFINITY], [1, 2], 0.98)).toThrow(MannWhitneyError);
    expect(() => mannWhitneyInterval([], [1, 2], 0.98)).toThrow(MannWhitneyError);
  });

  it('wilcoxonZ from sorted merging equals z from ranking the pool', () => {
    const { x, y } = REFERENCE[2]!;
    const xs = [...x].sort((a, b) => a - b);
    const ys = [...y].sort((a, b) => a - b);
    for (const d of [-20, 0, 7.54, 11.75, 11.76, 15.78, 40]) expect(wilcoxonZ(xs, ys, d)).toBeCloseTo(bruteZ(x, y, d), 12);
  });
});

describe('mannWhitneyInterval properties', () => {
  const sample = fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 3, maxLength: 25 });
  const notAllTied = ([x, y]: [number[], number[]]) => new Set([...x, ...y]).size > 1;

  it('swapping experiment and control negates the interval, and the negated estimate is a zero of z', () => {
    fc.assert(
      fc.property(fc.tuple(sample, sample).filter(notAllTied), ([x, y]) => {
        const forward = mannWhitneyInterval(x, y, 0.98);
        const swapped = mannWhitneyInterval(y, x, 0.98);
        // Each root is within TOL of the same jump (integer data: jumps are ≥ 1 apart).
        expect(Math.abs(swapped.lower + forward.upper)).toBeLessThanOrEqual(2 * TOL);
        expect(Math.abs(swapped.upper + forward.lower)).toBeLessThanOrEqual(2 * TOL);
        // z can be 0 over a whole step, so the estimate is only defined up to that step.
        expect(bruteZ(x, y, -swapped.estimate - 2 * TOL)).toBeGreaterThanOrEqual(0);
        expect(bruteZ(x, y, -swapped.estimate + 2 * TOL)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 200 },
    );
  });

  it('the interval is ordered, holds the estimate, and stays inside the search range', () => {
    fc.assert(
      fc.property(fc.tuple(sample, sample).filter(notAllTied), ([x, y]) => {
        const { lower, upper, estimate } = mannWhitneyInterval(x, y, 0.98);
        expect(lower).toBeLessThanOrEqual(estimate + TOL);
        expect(estimate).toBeLessThanOrEqual(upper + TOL);
        expect(lower).toBeGreaterThanOrEqual(Math.min(...x) - Math.max(...y));
        expect(upper).toBeLessThanOrEqual(Math.max(...x) - Math.min(...y));
      }),
      { numRuns: 200 },
    );
  });

  it('the lower bound is where the brute-force z falls through q', () => {
    fc.assert(
      fc.property(fc.tuple(sample, sample).filter(notAllTied), ([x, y]) => {
        const { lower } = mannWhitneyInterval(x, y, 0.98);
        const lowEnd = Math.min(...x) - Math.max(...y);
        if (bruteZ(x, y, lowEnd) <= Q98) expect(lower).toBe(lowEnd);
        else {
          expect(bruteZ(x, y, lower - TOL)).toBeGreaterThanOrEqual(Q98);
          expect(bruteZ(x, y, lower + TOL)).toBeLessThan(Q98);
        }
      }),
      { numRuns: 200 },
    );
  });
});
