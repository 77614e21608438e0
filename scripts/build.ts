/**
 * `npm run build`: one esbuild bundle per AWS Lambda function (functions/*.ts →
 * dist/aws/<name>/index.mjs) and one for the GCP entry points (gcp/index.ts → dist/gcp/), each
 * with the configuration beside it as crossfade.json: validated here, so a bad crossfade.yaml
 * fails the build rather than a cold start, and the bundles need no YAML parser. And the CLI as
 * one file for the run-job image (dist/cli/crossfade.mjs, scripts/cli-bundle.ts), with no
 * configuration in it.
 *
 * - The AWS SDK is bundled, not taken from the Lambda runtime: the version we test is the version
 *   that runs, and a pinned SDK cannot change under us. Minified it stays far below 1 MB.
 * - Code a request may never need is split into chunks loaded on first use (the GKE client and
 *   its protos are ~5 MB; only a GKE lookup loads them; every SDK but DynamoDB's is imported where
 *   used), so index.mjs is what every cold start pays. scripts/bundle-options.ts has the options.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import pkg from '../package.json' with { type: 'json' };
import { loadConfig } from '../shared/adapters/config-file.js';
import { bundleOptions as common, GCP_EXTERNAL, NEVER_BUNDLED } from './bundle-options.js';
import { buildCliBundle, CLI_BUNDLE } from './cli-bundle.js';

const CONFIG = 'crossfade.yaml';
const EXAMPLE_CONFIG = 'crossfade.example.yaml';
export const BUNDLED_CONFIG = 'crossfade.json';

export function lambdaFunctionNames(): string[] {
  return readdirSync('functions')
    .filter((file) => file.endsWith('.ts'))
    .map((file) => basename(file, '.ts'))
    .sort();
}

function validatedConfigJson(): string {
  let file = CONFIG;
  if (!existsSync(file)) {
    console.warn(`build: no ${CONFIG} at the repository root: bundling ${EXAMPLE_CONFIG}, which has no tokens (every call but /healthz is refused)`);
    file = EXAMPLE_CONFIG;
  }
  const { config } = loadConfig({ CROSSFADE_CONFIG: file }, { required: true });
  return JSON.stringify(config, null, 2) + '\n';
}

async function main(): Promise<void> {
  rmSync('dist', { recursive: true, force: true });
  const config = validatedConfigJson();
  const sizes: string[] = [];
  for (const name of lambdaFunctionNames()) {
    const outdir = join('dist', 'aws', name);
    await build({ ...common, entryPoints: [join('functions', `${name}.ts`)], outdir });
    writeFileSync(join(outdir, BUNDLED_CONFIG), config);
    sizes.push(`  aws/${name}/index.mjs  ${kilobytes(join(outdir, 'index.mjs'))}`);
  }
  const gcpDir = join('dist', 'gcp');
  await build({ ...common, entryPoints: ['gcp/index.ts'], outdir: gcpDir, external: [...NEVER_BUNDLED, ...GCP_EXTERNAL] });
  writeFileSync(join(gcpDir, BUNDLED_CONFIG), config);
  writeFileSync(join(gcpDir, 'package.json'), JSON.stringify(gcpPackageJson(), null, 2) + '\n');
  sizes.push(`  gcp/index.mjs  ${kilobytes(join(gcpDir, 'index.mjs'))}`);
  await buildCliBundle();
  sizes.push(`  ${CLI_BUNDLE.replace('dist/', '')}  ${kilobytes(CLI_BUNDLE)}`);
  console.log(`build: ${sizes.length} bundles\n${sizes.join('\n')}`);
}

/** What Cloud Functions' Node.js buildpack installs and runs: the framework, and our bundle as main. */
function gcpPackageJson() {
  const dependencies = Object.fromEntries(GCP_EXTERNAL.map((name) => [name, (pkg.dependencies as Record<string, string>)[name]]));
  return { name: `${pkg.name}-gcp`, version: pkg.version, private: true, type: 'module', main: 'index.mjs', engines: { node: '>=22' }, dependencies };
}

function kilobytes(path: string): string {
  return `${(statSync(path).size / 1024).toFixed(0)} KB`;
}

mkdirSync('dist', { recursive: true });
await main();
