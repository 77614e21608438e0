/**
 * `npm run bench [selection...]`: runs bench suites, prints a table per scenario on stdout and a
 * summary of every scenario last, and merges what ran into bench/results/<suite>.json (by scenario:
 * see lib/results-file.ts). With no arguments every suite runs; an argument names a suite
 * (`foundation`) or one of its scenarios (`foundation/api`). A scenario that reports failed
 * requests, or throws, fails the run: exit code 1, its records in <suite>.failed.json instead.
 * CROSSFADE_BENCH_SIZE=tiny runs every scenario at a few seconds' size (lib/size.ts).
 *
 * Refuses any Node but 22: the figures are about the runtime the functions run on, and a cold
 * start measured on another major is a different number.
 */
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSuiteReport, type ScenarioRun, type SuiteReport } from './lib/results-file.js';
import { benchSize, type BenchSize } from './lib/size.js';
import type { Scenario, Suite } from './lib/suite.js';
import { renderTable, type Table } from './lib/table.js';
import { startTimer } from './lib/timing.js';

const REQUIRED_NODE_MAJOR = 22;
/** CROSSFADE_BENCH_RESULTS_DIR: somewhere else than bench/results (the bench's own test uses a temporary directory). */
const RESULTS_DIR = resolve(process.env['CROSSFADE_BENCH_RESULTS_DIR'] ?? fileURLToPath(new URL('./results/', import.meta.url)));

function requireNode22(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major === REQUIRED_NODE_MAJOR) return;
  console.error(
    `bench: this is Node ${process.version} (${process.execPath}); the bench measures Node ${REQUIRED_NODE_MAJOR}, what the functions run on.\n` +
      `  Run it as \`npm run bench\`, which puts the project's Node ${REQUIRED_NODE_MAJOR} (node_modules/.bin/node) first on PATH.`,
  );
  process.exit(2);
}

interface Selected {
  suite: Suite;
  scenarios: Scenario[];
}

/** `foundation` → all its scenarios; `foundation/api` → that one. Unknown names stop the run before anything is measured. */
function select(args: string[], suites: readonly Suite[]): Selected[] {
  if (args.length === 0) return suites.map((suite) => ({ suite, scenarios: suite.scenarios }));
  const chosen = new Map<Suite, Set<Scenario>>();
  for (const arg of args) {
    const [suiteName, scenarioName] = arg.split('/');
    const suite = suites.find((s) => s.name === suiteName);
    const scenarios = suite && (scenarioName ? suite.scenarios.filter((s) => s.name === scenarioName) : suite.scenarios);
    if (!suite || !scenarios || scenarios.length === 0) {
      const known = suites.flatMap((s) => [s.name, ...s.scenarios.map((c) => `${s.name}/${c.name}`)]);
      console.error(`bench: no suite or scenario "${arg}"; known: ${known.join(', ')}`);
      process.exit(2);
    }
    const set = chosen.get(suite) ?? new Set<Scenario>();
    scenarios.forEach((s) => set.add(s));
    chosen.set(suite, set);
  }
  // Scenarios keep the suite's own order whatever the order on the command line.
  return [...chosen].map(([suite, set]) => ({ suite, scenarios: suite.scenarios.filter((s) => set.has(s)) }));
}

/** One scenario's row of the closing summary: every scenario run, and whether it failed. */
interface ScenarioSummary {
  scenario: string;
  status: ScenarioRun['status'];
  seconds: number;
  why: string;
}

async function runSuite({ suite, scenarios }: Selected, size: BenchSize): Promise<ScenarioSummary[]> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg().map(roundLoad);
  const results: Record<string, unknown>[] = [];
  const runs: Record<string, ScenarioRun> = {};
  const summaries: ScenarioSummary[] = [];
  console.log(`## bench ${suite.name}: ${suite.summary}\n`);
  for (const scenario of scenarios) {
    const progress = (message: string) => process.stderr.write(`bench ${suite.name}/${scenario.name}: ${message}\n`);
    const scenarioStartedAt = new Date().toISOString();
    const scenarioLoad = loadavg().map(roundLoad);
    const elapsed = startTimer();
    let failures: string[] = [];
    try {
      const outcome = await scenario.run({ progress });
      for (const table of outcome.tables) console.log(`${renderTable(table)}\n`);
      results.push(...outcome.results.map((result) => ({ scenario: scenario.name, ...result })));
      failures = outcome.failures ?? [];
      if (failures.length > 0) console.error(`bench ${suite.name}/${scenario.name} failed: requests failed\n  ${failures.join('\n  ')}`);
    } catch (error) {
      // One broken scenario does not cost the others their figures; the exit code still says so.
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`bench ${suite.name}/${scenario.name} failed: ${message}`);
      failures = [`threw: ${error instanceof Error ? error.message : String(error)}`];
      results.push({ scenario: scenario.name, error: error instanceof Error ? error.message : String(error) });
    }
    const seconds = Math.round(elapsed() / 100) / 10;
    const status = failures.length > 0 ? 'failed' : 'ok';
    runs[scenario.name] = {
      status,
      size,
      node: process.version,
      startedAt: scenarioStartedAt,
      finishedAt: new Date().toISOString(),
      seconds,
      loadAverageAtStart: scenarioLoad,
      ...(failures.length > 0 ? { failures } : {}),
    };
    summaries.push({ scenario: `${suite.name}/${scenario.name}`, status, seconds, why: describeFailures(failures) });
  }
  const report: SuiteReport = {
    suite: suite.name,
    node: process.version,
    cpus: cpus().length,
    machine: cpus()[0]?.model ?? 'unknown',
    // Other work on the machine moves every figure; a reader comparing two runs should see it.
    loadAverageAtStart: loadAtStart,
    startedAt,
    finishedAt: new Date().toISOString(),
    scenarios: scenarios.map((s) => s.name),
    runs,
    aims: suite.aims,
    results,
  };
  const written = writeSuiteReport(RESULTS_DIR, size, report, suite.scenarios.map((s) => s.name));
  for (const path of written) console.log(`${path.endsWith('.failed.json') ? 'failed scenarios (not merged into the results)' : 'results'}: ${path}\n`);
  return summaries;
}

const roundLoad = (load: number): number => Math.round(load * 100) / 100;

/** The first failure and how many more: the full list is above and in the JSON. */
function describeFailures(failures: readonly string[]): string {
  if (failures.length === 0) return '';
  const first = failures[0]!.split('\n')[0]!.slice(0, 160);
  return failures.length === 1 ? first : `${first} (+${failures.length - 1} more)`;
}

/** The last table of a run: one row per scenario, failed ones marked, so a failure cannot scroll by unseen. */
function summaryTable(summaries: readonly ScenarioSummary[], size: BenchSize): Table {
  const failed = summaries.filter((s) => s.status !== 'ok').length;
  return {
    title: `bench summary: ${summaries.length} scenarios at size ${size}, ${failed === 0 ? 'none failed' : `${failed} FAILED`}`,
    columns: [{ header: 'scenario' }, { header: 'result' }, { header: 's', align: 'right' }, { header: 'why' }],
    rows: summaries.map((s) => [s.scenario, s.status === 'ok' ? 'ok' : 'FAILED', s.seconds.toFixed(1), s.why]),
    notes: failed === 0 ? [] : ['A failed scenario\'s records went to <suite>.failed.json; <suite>.json keeps its previous figures. The run exits 1.'],
  };
}

requireNode22();
// Imported only once the Node version is known to be right, so a wrong Node gets the message above
// rather than whatever loading the suites on it would throw.
const { suites } = await import('./suites.js');
const selection = select(process.argv.slice(2), suites);
console.log(`node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'unknown cpu'} · load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
const size = benchSize();
const summaries: ScenarioSummary[] = [];
for (const selected of selection) summaries.push(...(await runSuite(selected, size)));
console.log(`${renderTable(summaryTable(summaries, size))}\n`);
process.exitCode = summaries.some((s) => s.status !== 'ok') ? 1 : 0;
