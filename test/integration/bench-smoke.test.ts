/**
 * The bench cannot rot unnoticed: every registered scenario runs once at the tiny size through the
 * real entry (bench/run.ts in a child process, as `npm run bench` runs it), and must exit 0 with
 * every scenario reported clean; and a scenario whose requests fail (broken on purpose with
 * CROSSFADE_BENCH_BREAK_REQUESTS) must exit 1, show the row FAILED and keep its records out of the
 * results file. Results go to a temporary directory: nothing is written under bench/results/.
 *
 * Needs the built bundles (foundation/bundles imports them): `npm test` builds before vitest runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { SuiteReport } from '../../bench/lib/results-file.js';
import { suites } from '../../bench/suites.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const COMMITTED_RESULTS = join(REPO, 'bench', 'results');
/** The bench refuses any Node but 22; the `node` devDependency is the one `npm run bench` puts first on PATH. */
const PROJECT_NODE = join(REPO, 'node_modules', '.bin', 'node');
const NODE = existsSync(PROJECT_NODE) ? PROJECT_NODE : process.execPath;
/** Far above the ~1 minute the tiny run takes on a loaded 2-core machine. */
const RUN_TIMEOUT_MS = 360_000;

interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function resultsDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'crossfade-bench-smoke-'));
  directories.push(directory);
  return directory;
}

function runBench(args: readonly string[], resultsDir: string, extraEnv: Record<string, string> = {}): Promise<BenchRun> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    // HAProxy lands in /usr/sbin, which not every PATH has.
    PATH: `${process.env['PATH'] ?? ''}:/usr/sbin`,
    CROSSFADE_BENCH_SIZE: 'tiny',
    CROSSFADE_BENCH_RESULTS_DIR: resultsDir,
    ...extraEnv,
  };
  delete env['NODE_OPTIONS'];
  if (!('CROSSFADE_BENCH_BREAK_REQUESTS' in extraEnv)) delete env['CROSSFADE_BENCH_BREAK_REQUESTS'];
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const readReport = (path: string): SuiteReport => JSON.parse(readFileSync(path, 'utf8')) as SuiteReport;

/** Name and modification time of every file under bench/results: what the runs must leave alone. */
function committedResults(): string[] {
  if (!existsSync(COMMITTED_RESULTS)) return [];
  return readdirSync(COMMITTED_RESULTS)
    .sort()
    .map((name) => `${name} ${statSync(join(COMMITTED_RESULTS, name)).mtimeMs}`);
}

/** The summary table's row of `scenario`, e.g. `| foundation/api | FAILED | 3.3 | … |`. */
function summaryRow(stdout: string, scenario: string): string | undefined {
  const summary = stdout.slice(stdout.lastIndexOf('### bench summary'));
  return summary.split('\n').find((line) => line.startsWith(`| ${scenario} `));
}

describe('npm run bench at the tiny size', () => {
  it('runs every registered scenario once, all clean, exit 0, nothing under bench/results', { timeout: RUN_TIMEOUT_MS }, async () => {
    const before = committedResults();
    const dir = resultsDirectory();

    const run = await runBench([], dir);

    expect(run.code, `bench exited ${run.code}; stderr:\n${run.stderr.slice(-4000)}`).toBe(0);
    for (const suite of suites) {
      expect(existsSync(join(dir, `${suite.name}.tiny.failed.json`)), `${suite.name} wrote a failed file`).toBe(false);
      const report = readReport(join(dir, `${suite.name}.tiny.json`));
      expect(report.scenarios).toEqual(suite.scenarios.map((s) => s.name));
      for (const scenario of suite.scenarios) {
        const ran = report.runs[scenario.name];
        expect(ran, `${suite.name}/${scenario.name} is not reported`).toBeDefined();
        expect({ scenario: `${suite.name}/${scenario.name}`, status: ran!.status, size: ran!.size, failures: ran!.failures }).toEqual({ scenario: `${suite.name}/${scenario.name}`, status: 'ok', size: 'tiny', failures: undefined });
        expect(report.results.some((record) => record['scenario'] === scenario.name), `${suite.name}/${scenario.name} recorded no result`).toBe(true);
        expect(summaryRow(run.stdout, `${suite.name}/${scenario.name}`)).toMatch(/\| ok +\|/);
      }
    }
    expect(committedResults()).toEqual(before);
  });

  it('fails the run when a scenario\'s requests fail: exit 1, the row FAILED, its records kept out of the results file', { timeout: RUN_TIMEOUT_MS }, async () => {
    const before = committedResults();
    const dir = resultsDirectory();

    // Every list request of foundation/api goes to a path no route has: 404s, counted as failed requests.
    const run = await runBench(['foundation/api'], dir, { CROSSFADE_BENCH_BREAK_REQUESTS: 'GET /v1/deployments?' });

    expect(run.code).toBe(1);
    expect(summaryRow(run.stdout, 'foundation/api')).toMatch(/\| FAILED +\|.*GET \/v1\/deployments\?/);
    expect(run.stdout).toContain('1 FAILED');
    const failed = readReport(join(dir, 'foundation.tiny.failed.json'));
    expect(failed.scenarios).toEqual(['api']);
    expect(failed.runs['api']?.status).toBe('failed');
    expect(failed.runs['api']?.failures?.every((line) => line.includes('GET /v1/deployments?'))).toBe(true);
    // The list rows carry the 404s; the other rows of the same scenario still answered.
    const listRows = failed.results.filter((record) => String(record['request']).startsWith('GET /v1/deployments?'));
    expect(listRows.length).toBeGreaterThan(0);
    for (const row of listRows) expect(Object.keys(row['problems'] as Record<string, number>).join()).toMatch(/^404/);
    expect(existsSync(join(dir, 'foundation.tiny.json')), 'a failed scenario was merged into the results file').toBe(false);
    expect(committedResults()).toEqual(before);
  });
});
