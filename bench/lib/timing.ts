/** Wall-clock timing on the monotonic clock (performance.now), never Date.now, which can jump. */

/** Starts a stopwatch; calling the result gives the milliseconds since. */
export function startTimer(): () => number {
  const started = performance.now();
  return () => performance.now() - started;
}
