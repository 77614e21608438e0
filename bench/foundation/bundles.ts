/**
 * Scenario `foundation/bundles`: each built bundle's size, and its cold init in a fresh Node
 * process, beside a reference bundle holding only the DynamoDB document client (built here with
 * the functions' own options, measured in the same interleaved runs). Each row says its budget
 * (COLD_IMPORT_BUDGETS) and its ratio to the reference. A bundle that does not load is a failed
 * row, and the run exits non-zero.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { bundleOptions } from '../../scripts/bundle-options.js';
import { importInFreshNode, type FreshImport } from '../lib/fresh-node.js';
import { sized } from '../lib/size.js';
import { median, roundMs, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatKiB, formatMs, type Table } from '../lib/table.js';

import { AIMS } from './aims.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DIST = join(REPO, 'dist');
const IMPORT_RUNS = sized(10, 1);
const IMPORT_TIMEOUT_MS = 30_000;
const REFERENCE = 'reference: DynamoDB document client only';

/** Issue 11's cold-import budgets (median import ms), and the most an AWS bundle may cost over the reference. */
export const COLD_IMPORT_BUDGETS = { healthMs: 60, awsMs: 150, awsOverReference: 1.5, gcpMs: 200 } as const;

interface BundleFile {
  name: string;
  path: string;
  /** A module the platform has loaded before this one, imported first and not timed. */
  preload?: string;
}

/**
 * On Cloud Functions, functions-framework's CLI (build/src/main.js) loads its server (Express,
 * body-parser) before it imports our module, which then finds Express loaded. This row times our
 * module as it is imported there; the `gcp` row also pays for loading Express.
 */
const GCP_AS_DEPLOYED = 'gcp, after functions-framework\'s main (as deployed)';

/** The reference, built as every function bundle is (scripts/bundle-options.ts), into dist/bench/. */
async function buildReference(): Promise<BundleFile> {
  const outdir = join(DIST, 'bench', 'dynamodb-reference');
  await build({ ...bundleOptions, sourcemap: false, entryPoints: [fileURLToPath(new URL('./dynamodb-reference.ts', import.meta.url))], outdir, logLevel: 'error' });
  return { name: REFERENCE, path: join(outdir, 'index.mjs') };
}

/** What a row must stay within: the budget in ms, and for AWS bundles but health the ratio to the reference. */
function budgetOf(bundle: string): { ms: number; overReference?: number } | undefined {
  if (bundle === 'aws/health') return { ms: COLD_IMPORT_BUDGETS.healthMs };
  if (bundle.startsWith('aws/')) return { ms: COLD_IMPORT_BUDGETS.awsMs, overReference: COLD_IMPORT_BUDGETS.awsOverReference };
  // The budget is the function's cold start as Cloud Functions runs it: the framework's CLI has loaded
  // Express before our module. The `gcp` row, which loads Express itself, is for reference only.
  if (bundle === GCP_AS_DEPLOYED) return { ms: COLD_IMPORT_BUDGETS.gcpMs };
  return undefined;
}

function builtBundles(): BundleFile[] {
  const awsDir = join(DIST, 'aws');
  const aws = existsSync(awsDir) ? readdirSync(awsDir).sort().map((name) => ({ name: `aws/${name}`, path: join(awsDir, name, 'index.mjs') })) : [];
  const gcp = join(DIST, 'gcp', 'index.mjs');
  // main.js requires ./server (Express, body-parser) before it loads the function; importing main.js itself would start the server.
  const frameworkServer = pathToFileURL(join(dirname(createRequire(join(REPO, 'package.json')).resolve('@google-cloud/functions-framework')), 'server.js')).href;
  const bundles = [...aws, { name: 'gcp', path: gcp }, { name: GCP_AS_DEPLOYED, path: gcp, preload: frameworkServer }].filter((bundle) => existsSync(bundle.path));
  if (bundles.length === 0) throw new Error(`no bundles under ${DIST}: run \`npm run build\` first (\`npm run bench\` does)`);
  return bundles;
}

/** The child's environment: the process's own, quiet, and without NODE_OPTIONS (it could load tsx into the child and time that instead). */
function childEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    CROSSFADE_LOG_LEVEL: 'silent',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // The GCP function refuses to load without a way to AWS; deployed keyless, it has a role (asked for only on first use).
    CROSSFADE_AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/crossfade-bench',
  };
  delete env['NODE_OPTIONS'];
  return env;
}

export async function measureBundles(context: BenchContext): Promise<ScenarioOutcome> {
  const env = childEnv();
  // The baseline first: the same harness, importing nothing.
  const targets: { name: string; path: string | undefined; preload?: string }[] = [{ name: 'empty process', path: undefined }, await buildReference(), ...builtBundles()];
  const samples = new Map<string, FreshImport[]>(targets.map((t) => [t.name, []]));
  /** Why a bundle did not load: it is then left out of the remaining runs. */
  const failed = new Map<string, string>();
  const once = async (target: (typeof targets)[number]) => {
    if (failed.has(target.name)) return;
    try {
      const sample = await importInFreshNode({ url: target.path && pathToFileURL(target.path).href, ...(target.preload ? { preload: target.preload } : {}), cwd: target.path ? join(target.path, '..') : REPO, env, timeoutMs: IMPORT_TIMEOUT_MS });
      samples.get(target.name)!.push(sample);
    } catch (error) {
      failed.set(target.name, error instanceof Error ? error.message : String(error));
    }
  };

  // One uncounted run each, so every counted run reads the files from the page cache; then the
  // runs interleave bundles, so drift on a shared machine spreads over all of them alike.
  for (const target of targets) {
    await once(target);
    samples.get(target.name)!.length = 0;
  }
  for (let run = 1; run <= IMPORT_RUNS; run++) {
    context.progress(`bundles: run ${run}/${IMPORT_RUNS}`);
    for (const target of targets) await once(target);
  }

  const emptyProcessMs = median(samples.get('empty process')!.map((s) => s.processMs));
  const referenceImportMs = median(samples.get(REFERENCE)!.map((s) => s.importMs));
  const measured = targets.filter((target) => !failed.has(target.name));
  const results = measured.map((target) => {
    const runs = samples.get(target.name)!;
    const bytes = target.path ? readFileSync(target.path) : undefined;
    const importMs = summarize(runs.map((s) => s.importMs));
    const processMs = summarize(runs.map((s) => s.processMs));
    const budget = budgetOf(target.name);
    const overReference = target.path ? importMs.p50 / referenceImportMs : null;
    return {
      bundle: target.name,
      file: target.path ? relative(REPO, target.path) : null,
      bytes: bytes?.length ?? null,
      gzipBytes: bytes ? gzipSync(bytes).length : null,
      runs: runs.length,
      importMs: { median: roundMs(importMs.p50), min: roundMs(importMs.min), max: roundMs(importMs.max) },
      processMs: { median: roundMs(processMs.p50), min: roundMs(processMs.min), max: roundMs(processMs.max) },
      processOverEmptyMs: roundMs(processMs.p50 - emptyProcessMs),
      importOverReference: overReference === null ? null : Math.round(overReference * 100) / 100,
      budget: budget ? { importMs: budget.ms, ...(budget.overReference ? { overReference: budget.overReference } : {}) } : null,
      withinBudget: budget ? importMs.p50 <= budget.ms && (budget.overReference === undefined || overReference! <= budget.overReference) : null,
      aim: target.path ? `${AIMS.bundleSize}; ${AIMS.coldInit}` : null,
    };
  });
  const failures = [...failed].map(([bundle, why]) => `${bundle} did not load: ${why}`);
  results.push(...[...failed].map(([bundle, why]) => ({ bundle, error: why }) as unknown as (typeof results)[number]));

  const spread = (s: { median: number; min: number; max: number }) => `${formatMs(s.median)} (${formatMs(s.min)}–${formatMs(s.max)})`;
  const table: Table = {
    title: `foundation / bundles: size and cold init — node ${process.version}, ${IMPORT_RUNS} fresh processes each`,
    columns: [
      { header: 'bundle' },
      { header: 'size', align: 'right' },
      { header: 'gzip', align: 'right' },
      { header: 'import ms median (min–max)', align: 'right' },
      { header: 'process ms median (min–max)', align: 'right' },
      { header: 'process − empty ms', align: 'right' },
      { header: '× reference', align: 'right' },
      { header: 'budget' },
    ],
    rows: results.filter((r) => r.runs !== undefined).map((r) => [
      r.bundle,
      r.bytes === null ? '—' : formatKiB(r.bytes),
      r.gzipBytes === null ? '—' : formatKiB(r.gzipBytes),
      r.file === null ? '—' : spread(r.importMs),
      spread(r.processMs),
      r.file === null ? '—' : formatMs(r.processOverEmptyMs),
      r.importOverReference === null ? '—' : `${r.importOverReference.toFixed(2)}×`,
      budgetText(r.budget, r.withinBudget),
    ]),
    notes: [
      'import: performance.now() around `await import(url)` inside the child; process: spawn() to exit, seen by the parent.',
      'empty process: the same harness importing nothing (node -e 0 plus the harness), what every row pays before its bundle.',
      `reference: a handler holding only the DynamoDB document client, built with the functions' options (bench/foundation/dynamodb-reference.ts); × reference is each row's median import over its median import.`,
      `budget (issue 11): health ≤ ${COLD_IMPORT_BUDGETS.healthMs} ms; every other AWS bundle ≤ ${COLD_IMPORT_BUDGETS.awsMs} ms and ≤ ${COLD_IMPORT_BUDGETS.awsOverReference}× the reference; gcp ≤ ${COLD_IMPORT_BUDGETS.gcpMs} ms as deployed (the \`gcp\` row also loads Express and body-parser, which on Cloud Functions the framework has loaded before our module: for reference). Reported, not asserted: a bundle that does not load fails the run.`,
      'One uncounted warm-up run per row first (page cache), then runs interleaved across rows.',
      'Import is module evaluation only: the handlers read their configuration and build SDK clients on the first invocation, not measured here.',
      'gcp: @google-cloud/functions-framework is external, so its import time includes the framework (from node_modules) but its size does not.',
      'gzip: node:zlib at its default level. Sizes in KiB; the aim\'s 1 MB is 976.6 KiB (exact bytes in the JSON).',
    ],
  };
  return { tables: [table], results, failures };
}

function budgetText(budget: { importMs: number; overReference?: number } | null, within: boolean | null): string {
  if (budget === null) return '';
  const text = `≤ ${budget.importMs} ms${budget.overReference ? ` and ≤ ${budget.overReference}×` : ''}`;
  return `${text}: ${within ? 'within' : 'OVER'}`;
}
