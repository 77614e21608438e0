/**
 * What a bench suite is, for bench/run.ts: named scenarios that each measure something and hand
 * back tables to print and result records for bench/results/<suite>.json. Scenarios measure and
 * never assert: an aim is printed next to its figure as context, not turned into pass/fail.
 */
import type { Table } from './table.js';

export interface ScenarioOutcome {
  tables: Table[];
  /** One record per row measured; the runner adds `scenario` to each. */
  results: Record<string, unknown>[];
  /** Requests that failed, one line each: the run then exits non-zero (after printing the tables). */
  failures?: string[];
}

export interface BenchContext {
  /** A progress line on stderr, so stdout stays the tables. */
  progress(message: string): void;
}

export interface Scenario {
  name: string;
  summary: string;
  run(context: BenchContext): Promise<ScenarioOutcome>;
}

export interface Suite {
  name: string;
  summary: string;
  /** The figures the issue aims for, by what they measure; recorded in the JSON beside the results. */
  aims: Record<string, string>;
  scenarios: Scenario[];
}
