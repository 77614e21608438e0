/**
 * The numerical building blocks of the judge. Expected values come from numpy 2.4 / scipy 1.17
 * (`np.percentile` default = R-7, `np.std(ddof=1)`, `rankdata`, `norm.ppf`), computed outside this
 * suite and written here as literals.
 */
import { describe, expect, it } from 'vitest';
import { brentRoot } from '../../../../shared/domain/judge/brent.js';
import { normalQuantile } from '../../../../shared/domain/judge/normal-quantile.js';
import { gaussianNoise, mulberry32, seedFrom } from '../../../../shared/domain/judge/random.js';
import { averageRanks, distinctCount, mean, percentileR7, roundHalfUp, sameSortedValues, sampleStd, sortedAscending, tieTerm } from '../../../../shared/domain/judge/statistics.js';

describe('percentileR7', () => {
  it.each([
    { p: 0, expected: 15 },
    { p: 1, expected: 15.2 },
    { p: 25, expected: 20 },
    { p: 40, expected: 29 },
    { p: 50, expected: 35 },
    { p: 75, expected: 40 },
    { p: 99, expected: 49.6 },
    { p: 100, expected: 50 },
  ])('p$p of [15, 20, 35, 40, 50] is $expected, as numpy and R compute it', ({ p, expected }) => {
    expect(percentileR7([15, 20, 35, 40, 50], p)).toBeCloseTo(expected, 12);
  });

  it('interpolates on unsorted input once sorted, with negatives and repeats', () => {
    const sorted = sortedAscending([3.2, -1.5, 7.7, 0.4, 2.2, 9.9, 5.1, 5.1]);
    expect([1, 25, 50, 75, 99].map((p) => percentileR7(sorted, p))).toEqual([-1.367, 1.75, 4.15, 5.75, 9.746].map((v) => expect.closeTo(v, 12)));
  });

  it('is NaN for no data and the value itself for one point', () => {
    expect(percentileR7([], 50)).toBeNaN();
    expect(percentileR7([7], 99)).toBe(7);
  });
});

describe('mean and sampleStd', () => {
  it('match numpy (ddof = 1)', () => {
    const values = [3.2, -1.5, 7.7, 0.4, 2.2, 9.9, 5.1, 5.1];
    expect(mean(values)).toBeCloseTo(4.0125, 14);
    expect(sampleStd(values)).toBeCloseTo(3.74182442132177, 13);
  });

  it('stay accurate far from zero', () => {
    expect(sampleStd([1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4])).toBeCloseTo(1.2909944487358056, 9);
  });

  it('NaN for no data; std 0 for a single point', () => {
    expect(mean([])).toBeNaN();
    expect(sampleStd([])).toBeNaN();
    expect(sampleStd([42])).toBe(0);
  });
});

describe('ranks and ties', () => {
  it('averageRanks gives ties the average of the ranks they span (scipy rankdata)', () => {
    expect(averageRanks([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5])).toEqual([4.5, 1.5, 6, 1.5, 8, 11, 3, 10, 8, 4.5, 8]);
  });

  it('NaN ranks highest (Commons Math NaNStrategy.MAXIMAL)', () => {
    expect(averageRanks([2, Number.NaN, 1])).toEqual([2, 3, 1]);
  });

  it('tieTerm sums t³ − t over groups of ties', () => {
    expect(tieTerm([1, 1, 2, 3, 3, 3])).toBe(2 ** 3 - 2 + (3 ** 3 - 3));
    expect(tieTerm([1, 2, 3])).toBe(0);
  });

  it('sameSortedValues and distinctCount', () => {
    expect(sameSortedValues(sortedAscending([3, 1, 2]), sortedAscending([2, 3, 1]))).toBe(true);
    expect(sameSortedValues([1, 2], [1, 2, 2])).toBe(false);
    expect(distinctCount([1, 1, 2, 5, 5])).toBe(3);
    expect(distinctCount([])).toBe(0);
  });

  it('sortedAscending sorts numerically, not as strings', () => {
    expect(sortedAscending([10, 9, 100, -1])).toEqual([-1, 9, 10, 100]);
  });
});

describe('roundHalfUp (Commons MathUtils.round on the decimal form)', () => {
  it.each([
    [66.66666666666667, 66.67],
    [1.005, 1.01], // 1.005 is 1.00499999999999989… in binary; the decimal form rounds up, as Java's does
    [2.675, 2.68],
    [33.333, 33.33],
    [0, 0],
    [100, 100],
    [1e-7, 0],
  ])('%s → %s', (value, expected) => {
    expect(roundHalfUp(value, 2)).toBe(expected);
  });
});

describe('normalQuantile (AS 241)', () => {
  it.each([
    [1e-300, -37.0470962993612],
    [1e-10, -6.361340902404056],
    [0.001, -3.090232306167813],
    [0.025, -1.959963984540054],
    [0.1, -1.2815515655446004],
    [0.5, 0],
    [0.75, 0.6744897501960817],
    [0.975, 1.959963984540054],
    [0.99, 2.3263478740408408],
    [1 - 1e-10, 6.361340889697422],
  ])('Φ⁻¹(%s) = %s to 1e-14 relative (scipy norm.ppf)', (p, expected) => {
    expect(Math.abs(normalQuantile(p) - expected)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(expected)));
  });

  it('is ±∞ at 0 and 1, NaN outside', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe('brentRoot (R zeroin)', () => {
  const options = { tolerance: 1e-4, maxIterations: 1000 };

  it('finds √2 of x² − 2 within the tolerance', () => {
    const f = (x: number) => x * x - 2;
    expect(Math.abs(brentRoot(f, 0, 2, f(0), f(2), options) - Math.SQRT2)).toBeLessThan(1e-4);
  });

  it('finds the jump of a step function within the tolerance', () => {
    const step = (x: number) => (x < 0.3 ? 1 : -1);
    expect(Math.abs(brentRoot(step, -5, 5, 1, -1, options) - 0.3)).toBeLessThanOrEqual(1e-4);
  });

  it('returns an end whose value is 0, and refuses ends of one sign', () => {
    const f = (x: number) => x - 1;
    expect(brentRoot(f, 1, 3, 0, 2, options)).toBe(1);
    expect(() => brentRoot(f, 2, 3, 1, 2, options)).toThrow(RangeError);
  });
});

describe('seeded randomness', () => {
  it('mulberry32 repeats for a seed and differs between seeds', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect([c(), c(), c()]).not.toEqual(first);
    expect(first.every((u) => u >= 0 && u < 1)).toBe(true);
  });

  it('gaussianNoise draws N(0, σ): mean ≈ 0, std ≈ σ over 20,000 draws', () => {
    const noise = gaussianNoise(mulberry32(1));
    const draws = Array.from({ length: 20_000 }, () => noise(3));
    expect(Math.abs(mean(draws))).toBeLessThan(0.1);
    expect(sampleStd(draws)).toBeCloseTo(3, 1);
  });

  it('seedFrom depends on the name and every bit of the data', () => {
    const seed = seedFrom('latency', [1, 2], [3]);
    expect(seedFrom('latency', [1, 2], [3])).toBe(seed);
    expect(seedFrom('errors', [1, 2], [3])).not.toBe(seed);
    expect(seedFrom('latency', [1, 2 + 2 ** -50], [3])).not.toBe(seed);
    expect(seedFrom('latency', [1], [2, 3])).not.toBe(seed);
  });
});
