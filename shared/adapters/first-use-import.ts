/**
 * The exports of a package loaded with `import()` at first use (the AWS SDK clients,
 * google-auth-library, the Google Cloud clients). Node gives a CommonJS package's named exports
 * beside `default`, and an ES module's own exports; in an esbuild bundle, the chunk a CommonJS
 * package is split into gives only `default` (the whole `module.exports`), since esbuild cannot
 * list a CommonJS module's exports. So: `default` when it is all there is, else the namespace.
 */
export function commonJs<T extends object>(namespace: T): T {
  const names = Object.keys(namespace);
  return names.length === 1 && names[0] === 'default' ? (namespace as unknown as { default: T }).default : namespace;
}

/**
 * What is built only when first needed (a module imported with `import()`, the client made from
 * it, a secret read once): concurrent first uses share one load, and a failed load is not kept,
 * so the next use tries again.
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
