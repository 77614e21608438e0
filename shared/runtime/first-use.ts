/**
 * What an entry point builds only when a request first needs it: a module imported with
 * `import()` (esbuild puts it in a chunk of its own, docs/architecture.md "Cold start"), then the
 * client made from it. Concurrent first uses share one load; a failed load is not kept, so the next
 * use tries again.
 */
export function loadedOnFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
