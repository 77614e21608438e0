/**
 * The `crossfade` CLI as one self-contained ES module (dist/cli/crossfade.mjs), for the Spinnaker
 * run-job image (Dockerfile): every dependency is inside, YAML included, so the image needs neither
 * node_modules nor tsx, only Node 22. No configuration is bundled: the CLI reads its connection
 * from flags, environment and its own config file at run time, and no secret ends up in the image.
 *
 * What needs files from node_modules at run time (`xds-server`'s Envoy protos) does not run from
 * this bundle; the API commands do.
 */
import { build } from 'esbuild';

export const CLI_BUNDLE = 'dist/cli/crossfade.mjs';

/** ESM output needs a `require` for the SDKs' CommonJS parts: an ES module has none. */
export const REQUIRE_BANNER = "import { createRequire as __crossfadeRequire } from 'node:module'; const require = __crossfadeRequire(import.meta.url);";

export async function buildCliBundle(outfile: string = CLI_BUNDLE): Promise<void> {
  await build({
    entryPoints: ['cli/bundle-entry.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: 'external',
    legalComments: 'none',
    banner: { js: REQUIRE_BANNER },
    logLevel: 'warning',
  });
}
