/**
 * How big a bench run is: `CROSSFADE_BENCH_SIZE=tiny` shrinks every scenario to a handful of
 * services and a few requests (seconds each), so the whole bench can run in the test suite and a
 * scenario that no longer works fails CI. The figures of a tiny run measure nothing worth keeping;
 * what it proves is that every request still succeeds. Unset (or `full`): the sizes the aims are about.
 */
export type BenchSize = 'full' | 'tiny';

const SIZES: readonly BenchSize[] = ['full', 'tiny'];

export function benchSize(env: NodeJS.ProcessEnv = process.env): BenchSize {
  const value = env['CROSSFADE_BENCH_SIZE'] ?? 'full';
  if (!(SIZES as readonly string[]).includes(value)) throw new Error(`CROSSFADE_BENCH_SIZE is "${value}": it must be one of ${SIZES.join(', ')}`);
  return value as BenchSize;
}

export const isTiny = (): boolean => benchSize() === 'tiny';

/** `full` at the full size, `tiny` at the tiny one: each scenario names both next to each other. */
export function sized<T>(full: T, tiny: T): T {
  return isTiny() ? tiny : full;
}
