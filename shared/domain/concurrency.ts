/**
 * `items.map(fn)` with at most `limit` calls in flight, results in input order. For fanning out
 * many small store calls (one per service, one per chunk) without opening a socket per item.
 * Rejects with the first failure; calls already started are left to finish.
 */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
