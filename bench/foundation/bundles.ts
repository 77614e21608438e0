/** Scenario `foundation/bundles`: each built bundle's size, and its cold init in a fresh Node process. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
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

interface BundleFile {
  name: string;
  path: string;
}

function builtBundles(): BundleFile[] {
  const awsDir = join(DIST, 'aws');
  const aws = existsSync(awsDir) ? readdirSync(awsDir).sort().map((name) => ({ name: `aws/${name}`, path: join(awsDir, name, 'index.mjs') })) : [];
  const bundles = [...aws, { name: 'gcp', path: join(DIST, 'gcp', 'index.mjs') }].filter((bundle) => existsSync(bundle.path));
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
  const targets = [{ name: 'empty process', path: undefined }, ...builtBundles()];
  const samples = new Map<string, FreshImport[]>(targets.map((t) => [t.name, []]));
  const once = (target: (typeof targets)[number]) =>
    importInFreshNode({ url: target.path && pathToFileURL(target.path).href, cwd: target.path ? join(target.path, '..') : REPO, env, timeoutMs: IMPORT_TIMEOUT_MS });

  // One uncounted run each, so every counted run reads the files from the page cache; then the
  // runs interleave bundles, so drift on a shared machine spreads over all of them alike.
  for (const target of targets) await once(target);
  for (let run = 1; run <= IMPORT_RUNS; run++) {
    context.progress(`bundles: run ${run}/${IMPORT_RUNS}`);
    for (const target of targets) samples.get(target.name)!.push(await once(target));
  }

  const emptyProcessMs = median(samples.get('empty process')!.map((s) => s.processMs));
  const results = targets.map((target) => {
    const runs = samples.get(target.name)!;
    const bytes = target.path ? readFileSync(target.path) : undefined;
    const importMs = summarize(runs.map((s) => s.importMs));
    const processMs = summarize(runs.map((s) => s.processMs));
    return {
      bundle: target.name,
      file: target.path ? relative(REPO, target.path) : null,
      bytes: bytes?.length ?? null,
      gzipBytes: bytes ? gzipSync(bytes).length : null,
      runs: runs.length,
      importMs: { median: roundMs(importMs.p50), min: roundMs(importMs.min), max: roundMs(importMs.max) },
      processMs: { median: roundMs(processMs.p50), min: roundMs(processMs.min), max: roundMs(processMs.max) },
      processOverEmptyMs: roundMs(processMs.p50 - emptyProcessMs),
      aim: target.path ? `${AIMS.bundleSize}; ${AIMS.coldInit}` : null,
    };
  });

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
      { header: 'aim' },
    ],
    rows: results.map((r) => [
      r.bundle,
      r.bytes === null ? '—' : formatKiB(r.bytes),
      r.gzipBytes === null ? '—' : formatKiB(r.gzipBytes),
      r.file === null ? '—' : spread(r.importMs),
      spread(r.processMs),
      r.file === null ? '—' : formatMs(r.processOverEmptyMs),
      r.aim === null ? '' : 'size < 1 MB, import < 150 ms',
    ]),
    notes: [
      'import: performance.now() around `await import(url)` inside the child; process: spawn() to exit, seen by the parent.',
      'empty process: the same harness importing nothing (node -e 0 plus the harness), what every row pays before its bundle.',
      'One uncounted warm-up run per row first (page cache), then runs interleaved across rows.',
      'Import is module evaluation only: the handlers read their configuration and build SDK clients on the first invocation, not measured here.',
      'gcp: @google-cloud/functions-framework is external, so its import time includes the framework (from node_modules) but its size does not.',
      'gzip: node:zlib at its default level. Sizes in KiB; the aim\'s 1 MB is 976.6 KiB (exact bytes in the JSON).',
    ],
  };
  return { tables: [table], results };
}
