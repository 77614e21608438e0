/**
 * bench/results/<suite>.json, one file per suite, merged by scenario: running one scenario
 * (`npm run bench dataplane/reconcile`) replaces that scenario's records and run details and keeps
 * every other scenario's as they were. Only scenarios that ran cleanly are merged in: a scenario
 * whose requests failed (or that threw) has figures nobody should compare against, so its records
 * go to <suite>.failed.json beside the file instead, and the committed figures stay as they were.
 * A tiny run (CROSSFADE_BENCH_SIZE=tiny) writes <suite>.tiny.json and <suite>.tiny.failed.json, so
 * a smoke run never replaces measured figures.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchSize } from './size.js';

/** When and where one scenario last ran: the figures of different scenarios may come from different runs. */
export interface ScenarioRun {
  status: 'ok' | 'failed';
  size: BenchSize;
  node: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  loadAverageAtStart: number[];
  /** Why it failed: failed requests, one line each, or what it threw. */
  failures?: string[];
}

export interface SuiteReport {
  suite: string;
  node: string;
  cpus: number;
  machine: string;
  /** Of the latest run that wrote this file. */
  loadAverageAtStart: number[];
  startedAt: string;
  finishedAt: string;
  /** Every scenario with records here, in the suite's order. */
  scenarios: string[];
  /** Per scenario: its last run. */
  runs: Record<string, ScenarioRun>;
  aims: Record<string, string>;
  /** One record per measured row, each with its `scenario`. */
  results: Record<string, unknown>[];
}

export function resultsPaths(dir: string, suite: string, size: BenchSize): { results: string; failed: string } {
  const stem = join(dir, size === 'tiny' ? `${suite}.tiny` : suite);
  return { results: `${stem}.json`, failed: `${stem}.failed.json` };
}

function readReport(path: string): Partial<SuiteReport> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<SuiteReport>;
  } catch (error) {
    throw new Error(`${path} is not JSON (${(error as Error).message}): fix or remove it; the bench will not overwrite it blindly`);
  }
}

/**
 * `previous` with `ran`'s scenarios replaced. Files written before scenarios had run details of
 * their own get them from the file's top-level fields, so a merge keeps when those figures were taken.
 */
export function mergeReports(previous: Partial<SuiteReport> | undefined, ran: SuiteReport, suiteOrder: readonly string[]): SuiteReport {
  const replaced = new Set(ran.scenarios);
  const kept = (previous?.results ?? []).filter((record) => !replaced.has(String(record['scenario'])));
  const keptScenarios = (previous?.scenarios ?? []).filter((name) => !replaced.has(name) && suiteOrder.includes(name));
  const previousRuns: Record<string, ScenarioRun> = {};
  for (const name of keptScenarios) {
    previousRuns[name] = previous?.runs?.[name] ?? {
      status: 'ok',
      size: 'full',
      node: previous?.node ?? 'unknown',
      startedAt: previous?.startedAt ?? 'unknown',
      finishedAt: previous?.finishedAt ?? 'unknown',
      seconds: Number.NaN,
      loadAverageAtStart: previous?.loadAverageAtStart ?? [],
    };
  }
  const order = (name: string) => suiteOrder.indexOf(name);
  const scenarios = [...keptScenarios, ...ran.scenarios].sort((a, b) => order(a) - order(b));
  const results = [...kept, ...ran.results].sort((a, b) => order(String(a['scenario'])) - order(String(b['scenario'])));
  return { ...ran, scenarios, runs: Object.fromEntries(scenarios.map((name) => [name, ran.runs[name] ?? previousRuns[name]!])), results };
}

/** Writes through a temporary file and a rename: an interrupted write leaves the old file whole. */
function writeJson(path: string, value: unknown): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, JSON.stringify(value, null, 2) + '\n');
  renameSync(temporary, path);
}

/** The paths written: the merged results file when anything ran cleanly, the failed file when anything failed. */
export function writeSuiteReport(dir: string, size: BenchSize, ran: SuiteReport, suiteOrder: readonly string[]): string[] {
  mkdirSync(dir, { recursive: true });
  const paths = resultsPaths(dir, ran.suite, size);
  const clean = ran.scenarios.filter((name) => ran.runs[name]?.status === 'ok');
  const failed = ran.scenarios.filter((name) => ran.runs[name]?.status !== 'ok');
  const only = (names: readonly string[]): SuiteReport => ({
    ...ran,
    scenarios: [...names],
    runs: Object.fromEntries(names.map((name) => [name, ran.runs[name]!])),
    results: ran.results.filter((record) => names.includes(String(record['scenario']))),
  });
  const written: string[] = [];
  if (clean.length > 0) {
    writeJson(paths.results, mergeReports(readReport(paths.results), only(clean), suiteOrder));
    written.push(paths.results);
  }
  if (failed.length > 0) {
    writeJson(paths.failed, only(failed));
    written.push(paths.failed);
  }
  return written;
}
