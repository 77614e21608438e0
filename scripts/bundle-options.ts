/**
 * How every function bundle is built (scripts/build.ts), shared with what inspects or measures
 * bundles the same way: the bundle-contents test (test/integration/bundle-contents.test.ts) and
 * the cold-import bench's reference bundle (bench/foundation/bundles.ts).
 *
 * - ESM output needs a `require` for the SDK's CommonJS parts (esbuild bundles the SDK's CommonJS
 *   parts into an ES module, where `require` does not exist), hence the banner.
 * - `splitting`: what an entry point imports with `import()` (an SDK used on first use, the
 *   discovery clients) goes into chunks/, loaded only when first called; index.mjs is what every
 *   cold start evaluates.
 */
import type { BuildOptions } from 'esbuild';
import { REQUIRE_BANNER } from './cli-bundle.js';

/** Only needed to read YAML, which the bundles never do (see shared/adapters/config-file.ts). */
export const NEVER_BUNDLED = ['yaml'];
/** functions-framework stays external on GCP: the platform runs its CLI, which must share the module instance our code registers with. */
export const GCP_EXTERNAL = ['@google-cloud/functions-framework'];

export const bundleOptions: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  splitting: true,
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  minify: true,
  sourcemap: 'external',
  legalComments: 'none',
  banner: { js: REQUIRE_BANNER },
  logLevel: 'warning',
  external: NEVER_BUNDLED,
};
