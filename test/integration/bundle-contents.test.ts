/**
 * What each function's bundle holds, read from esbuild's metafile for a build made exactly as
 * `npm run build` makes it (scripts/bundle-options.ts), so a regression in the per-capability
 * composition (docs/architecture.md "Cold start") fails here without timing anything:
 * - what a cold start evaluates (index.mjs and the chunks it imports statically) holds no SDK but
 *   DynamoDB's: every other client is imported where it is first used;
 * - each function's bundle holds the SDKs of its own capabilities and no other's;
 * - the health function holds no AWS SDK at all: it builds no table.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleOptions, GCP_EXTERNAL } from '../../scripts/bundle-options.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The SDKs each capability brings (shared/runtime/: workflow.ts, metrics.ts, policy.ts, notifications.ts, discovery.ts). */
const CAPABILITY_SDKS = {
  runs: ['@aws-sdk/client-sfn'],
  metrics: ['@aws-sdk/client-cloudwatch', '@google-cloud/monitoring'],
  policy: ['@aws-sdk/client-secrets-manager'],
  notifications: ['@aws-sdk/client-eventbridge', '@google-cloud/pubsub'],
  discovery: ['@aws-sdk/client-eks', '@google-cloud/container'],
} as const;
type Capability = keyof typeof CAPABILITY_SDKS;

/** Which capabilities each Lambda function composes (functions/*.ts). */
const FUNCTIONS: Record<string, readonly Capability[]> = {
  health: [],
  discovery: [],
  notify: ['notifications'],
  services: ['discovery', 'notifications'],
  reconcile: ['runs', 'discovery', 'notifications'],
  deployments: ['runs', 'metrics', 'policy', 'notifications'],
  canary: ['runs', 'metrics', 'policy', 'notifications'],
};

/** Never evaluated at cold start, in any bundle: loaded with their first call. */
const FIRST_USE_ONLY = [...Object.values(CAPABILITY_SDKS).flat(), 'google-auth-library', '@aws-sdk/client-sts', '@aws-sdk/client-lambda', '@grpc/grpc-js'];

interface Contents {
  /** Packages in what a cold start evaluates: index.mjs and every chunk it imports statically. */
  evaluated: Set<string>;
  /** Packages anywhere in the bundle, the chunks loaded on first use included. */
  anywhere: Set<string>;
}

async function contentsOf(entry: string, external: readonly string[] = []): Promise<Contents> {
  const { metafile } = await build({ ...bundleOptions, entryPoints: [join(ROOT, entry)], outdir: join(ROOT, 'dist', 'contents-check'), write: false, metafile: true, sourcemap: false, logLevel: 'error', external: [...(bundleOptions.external ?? []), ...external] });
  const outputs = metafile.outputs;
  const index = Object.keys(outputs).find((path) => path.endsWith('/index.mjs'))!;
  const evaluated = new Set<string>();
  const pending = [index];
  while (pending.length > 0) {
    const output = pending.pop()!;
    if (evaluated.has(output)) continue;
    evaluated.add(output);
    for (const imported of outputs[output]!.imports) if (imported.kind === 'import-statement' && outputs[imported.path]) pending.push(imported.path);
  }
  const packagesOf = (names: Iterable<string>) => new Set([...names].flatMap((name) => Object.keys(outputs[name]!.inputs)).map(packageOf).filter((name) => name !== undefined));
  return { evaluated: packagesOf(evaluated), anywhere: packagesOf(Object.keys(outputs)) };
}

/** `…/node_modules/@aws-sdk/client-sfn/dist-cjs/index.js` → `@aws-sdk/client-sfn`; our own files → undefined. */
function packageOf(input: string): string | undefined {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input);
  return match?.[1];
}

const bundles = new Map<string, Contents>();

beforeAll(async () => {
  for (const name of Object.keys(FUNCTIONS)) bundles.set(name, await contentsOf(`functions/${name}.ts`));
  bundles.set('gcp', await contentsOf('gcp/index.ts', GCP_EXTERNAL));
}, 180_000);

describe('the function bundles (esbuild metafile, built as npm run build builds them)', () => {
  it('a cold start evaluates no SDK but DynamoDB\'s: every other client loads where it is first used', () => {
    for (const [name, contents] of bundles) {
      expect([...contents.evaluated].filter((pkg) => FIRST_USE_ONLY.includes(pkg)), name).toEqual([]);
      if (name !== 'health') expect(contents.evaluated.has('@aws-sdk/client-dynamodb'), name).toBe(true);
    }
  });

  it('each Lambda function holds the SDKs of its own capabilities and no other\'s', () => {
    for (const [name, capabilities] of Object.entries(FUNCTIONS)) {
      const held = (Object.keys(CAPABILITY_SDKS) as Capability[]).filter((capability) => CAPABILITY_SDKS[capability].some((sdk) => bundles.get(name)!.anywhere.has(sdk)));
      expect(held, name).toEqual(Object.keys(CAPABILITY_SDKS).filter((capability) => capabilities.includes(capability as Capability)));
      for (const capability of capabilities) for (const sdk of CAPABILITY_SDKS[capability]) expect(bundles.get(name)!.anywhere.has(sdk), `${name}: ${sdk}`).toBe(true);
    }
  });

  it('the health function holds no AWS SDK at all, not even DynamoDB\'s: GET /healthz reads no state', () => {
    const health = bundles.get('health')!;
    expect([...health.anywhere].filter((pkg) => pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/'))).toEqual([]);
    for (const sdk of ['@aws-sdk/client-eks', '@google-cloud/container', '@aws-sdk/client-sfn']) expect(health.anywhere.has(sdk)).toBe(false);
  });

  it('GCP serves every route, so it holds every capability, each loaded on first use', () => {
    for (const sdk of Object.values(CAPABILITY_SDKS).flat()) expect(bundles.get('gcp')!.anywhere.has(sdk), sdk).toBe(true);
  });
});
