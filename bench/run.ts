/**
 * `npm run bench [selection...]`: runs bench suites, prints a table per scenario on stdout and
 * writes bench/results/<suite>.json. With no arguments every suite runs; an argument names a
 * suite (`foundation`) or one of its scenarios (`foundation/api`).
 *
 * Refuses any Node but 22: the figures are about the runtime the functions run on, and a cold
 * start measured on another major is a different number.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Scenario, Suite } from './lib/suite.js';
import { renderTable } from './lib/table.js';

const REQUIRED_NODE_MAJOR = 22;
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

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

async function runSuite({ suite, scenarios }: Selected): Promise<boolean> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg().map((load) => Math.round(load * 100) / 100);
  const results: Record<string, unknown>[] = [];
  let allRan = true;
  console.log(`## bench ${suite.name}: ${suite.summary}\n`);
  for (const scenario of scenarios) {
    const progress = (message: string) => process.stderr.write(`bench ${suite.name}/${scenario.name}: ${message}\n`);
    try {
      const outcome = await scenario.run({ progress });
      for (const table of outcome.tables) console.log(`${renderTable(table)}\n`);
      results.push(...outcome.results.map((result) => ({ scenario: scenario.name, ...result })));
      if (outcome.failures?.length) {
        allRan = false;
        console.error(`bench ${suite.name}/${scenario.name} failed: requests failed\n  ${outcome.failures.join('\n  ')}`);
      }
    } catch (error) {
      // One broken scenario does not cost the others their figures; the exit code still says so.
      allRan = false;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`bench ${suite.name}/${scenario.name} failed: ${message}`);
      results.push({ scenario: scenario.name, error: error instanceof Error ? error.message : String(error) });
    }
  }
  const report = {
    suite: suite.name,
    node: process.version,
    cpus: cpus().length,
    machine: cpus()[0]?.model ?? 'unknown',
    // Other work on the machine moves every figure; a reader comparing two runs should see it.
    loadAverageAtStart: loadAtStart,
    startedAt,
    finishedAt: new Date().toISOString(),
    scenarios: scenarios.map((s) => s.name),
    aims: suite.aims,
    results,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${suite.name}.json`;
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
  console.log(`results: ${path}\n`);
  return allRan;
}

requireNode22();
// Imported only once the Node version is known to be right, so a wrong Node gets the message above
// rather than whatever loading the suites on it would throw.
const { suites } = await import('./suites.js');
const selection = select(process.argv.slice(2), suites);
console.log(`node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'unknown cpu'} · load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
let failed = false;
for (const selected of selection) {
  if (!(await runSuite(selected))) failed = true;
}
process.exitCode = failed ? 1 : 0;
