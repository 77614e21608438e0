/**
 * Scenario `canary/concurrent`: 100 deployments of 100 different services created at once through
 * the local stack's HTTP API, each a short plan (setWeight 50, setWeight 100), all running in the
 * stack's in-process state machine together. Every create should be accepted (different services:
 * no lock is contended, so any refusal is a wrong one) and every run should end SUCCEEDED.
 *
 * Two configurations, each on a fresh stack: the one `orchestration` measures (two Envoy groups with
 * `proxies: []`: every prepare, shift and promote publishes both groups' snapshots) and, to tell
 * what publishing adds, none (no proxy group: traffic steps write the registry only). The store is
 * the embedded one in memory, counted (bench/lib/dynamo-counts.ts), so the DynamoDB requests the
 * round made are reported. Waits are 0 ms; retries keep the definition's own intervals (1 s
 * doubling, full jitter), as `npm start` runs them: with 0 ms retries a contended task would spend
 * its retries in a few milliseconds, which no deployed stack does.
 *
 * Registering v1 and v2 of the 100 services comes first, over HTTP, one registration at a time
 * (concurrent registrations contend for the snapshot heads), and is timed apart.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { countsSince, sumOf, type OperationCounts } from '../lib/dynamo-counts.js';
import type { Reply } from '../lib/http-client.js';
import { describeProblems } from '../lib/load.js';
import { sized } from '../lib/size.js';
import { roundMs, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';
import { AIMS } from './aims.js';
import { deploymentRequest, problemOf, PROXY_SETUP_NOTE, readStatus, registerService, startCanaryStack, type CanaryStack, type ProxySetup } from './orchestration.js';

const SERVICES = sized(100, 3);
const SEED_ATTEMPTS = 5;
const PLAN = [{ setWeight: 50 }, { setWeight: 100 }];
const SETUPS: ProxySetup[] = ['envoy-groups-no-proxies', 'no-proxy-groups'];
/** A safety bound, far above a healthy round: runs still going then are counted as unfinished (and stopped with the stack). */
const DEADLINE_MS = 600_000;
const READ_CONCURRENCY = 8;

const serviceName = (setup: number, index: number) => `bench-conc-${setup + 1}-${String(index + 1).padStart(3, '0')}`;

interface Seeding {
  elapsedMs: number;
  registered: number;
  retried: number;
  problems: Record<string, number>;
}

/** v1 and v2 of every service, one registration at a time; a failed one is tried again after a second (registration is idempotent). */
async function seed(stack: CanaryStack, setup: number, progress: (message: string) => void): Promise<Seeding> {
  const elapsed = startTimer();
  const result: Seeding = { elapsedMs: 0, registered: 0, retried: 0, problems: {} };
  for (let index = 0; index < SERVICES; index++) {
    for (let attempt = 1; attempt <= SEED_ATTEMPTS; attempt++) {
      let problem: string | undefined;
      try {
        const bad = (await registerService(stack.client, serviceName(setup, index), index)).find((r) => r.status !== 201 && r.status !== 200);
        problem = bad && problemOf(bad);
      } catch (error) {
        problem = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      if (problem === undefined) {
        result.registered++;
        break;
      }
      result.problems[problem] = (result.problems[problem] ?? 0) + 1;
      if (attempt < SEED_ATTEMPTS) {
        result.retried++;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
    if ((index + 1) % 25 === 0) progress(`registered ${index + 1}/${SERVICES} services (${Math.round(elapsed() / 1000)} s)`);
  }
  result.elapsedMs = elapsed();
  return result;
}

interface Deployed {
  createMs: number;
  /** Set when the create was answered 202. */
  id?: string;
  /** Why the create was not 202. */
  refusal?: string;
  /** From sending the create to the end of the run; undefined when it did not end by the deadline. */
  finishMs?: number;
}

interface Round {
  setup: ProxySetup;
  storeDescription: string;
  seeding: Seeding;
  deployed: Deployed[];
  totalMs: number;
  allCreatesAnsweredMs: number;
  finished: Record<string, number>;
  failureReasons: Record<string, number>;
  dynamo: OperationCounts;
  loopDelayMs: { p50: number; p99: number; max: number };
  taskWrites: Record<string, number>;
  skippedTasks: number;
  stackProblems: Record<string, number>;
  firstStackProblem: string | undefined;
}

async function runRound(setupIndex: number, setup: ProxySetup, progress: (message: string) => void): Promise<Round> {
  progress(`${setup}: starting the local stack on the embedded store (counted), ${PROXY_SETUP_NOTE[setup]}`);
  const stack = await startCanaryStack('embedded-counted', setup, { retryMs: undefined });
  try {
    progress(`${setup}: seeding v1 and v2 of ${SERVICES} services through PUT /v1/services/{service}/versions/{version}, one at a time`);
    const seeding = await seed(stack, setupIndex, progress);

    const runId = randomUUID().slice(0, 8);
    const bodies = Array.from({ length: SERVICES }, (_, i) => JSON.stringify(deploymentRequest(serviceName(setupIndex, i), PLAN, `conc-${runId}-${i}`)));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), DEADLINE_MS)));
    progress(`${setup}: creating ${SERVICES} deployments at once (${PLAN.map((s) => `setWeight ${s.setWeight}`).join(', ')}) and waiting for every run to end`);
    let createsDone = 0;
    let lastCreateMs = 0;
    let runsDone = 0;
    const dynamoBefore = stack.dynamoCounts!();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const total = startTimer();
    const deployed = await Promise.all(
      bodies.map(async (body): Promise<Deployed> => {
        const elapsed = startTimer();
        let created: Reply;
        try {
          created = await stack.client.send('POST', '/v1/deployments', body);
        } catch (error) {
          created = { status: 0, text: error instanceof Error ? `${error.name}: ${error.message}` : String(error), headers: {} };
        }
        const createMs = elapsed();
        lastCreateMs = Math.max(lastCreateMs, total());
        if (++createsDone === SERVICES) progress(`${setup}: all ${SERVICES} creates answered in ${Math.round(lastCreateMs)} ms; waiting for the runs`);
        if (created.status !== 202) return { createMs, refusal: created.status === 0 ? created.text : problemOf(created) };
        const { id } = JSON.parse(created.text) as { id: string };
        const outcome = await Promise.race([stack.runner.settled(id), deadline]);
        if (outcome === 'deadline') return { createMs, id };
        if (++runsDone % 25 === 0) progress(`${setup}: ${runsDone} runs ended (${Math.round(total() / 1000)} s)`);
        return { createMs, id, finishMs: elapsed() };
      }),
    );
    const totalMs = total();
    loopDelay.disable();
    clearTimeout(timer);
    const dynamo = countsSince(dynamoBefore, stack.dynamoCounts!());

    progress(`${setup}: reading every deployment's final status`);
    const finished: Record<string, number> = {};
    const failureReasons: Record<string, number> = {};
    const createdOnes = deployed.filter((d) => d.id !== undefined);
    let nextRead = 0;
    await Promise.all(
      Array.from({ length: READ_CONCURRENCY }, async () => {
        while (nextRead < createdOnes.length) {
          const d = createdOnes[nextRead++]!;
          const status = await readStatus(stack.client, d.id!);
          const key = d.finishMs === undefined ? `unfinished (${status.phase})` : status.status;
          finished[key] = (finished[key] ?? 0) + 1;
          if (status.status !== 'SUCCEEDED') {
            const reason = `${status.status}/${status.phase}: ${(status.result?.reason ?? 'no result yet').replace(/dep_[A-Za-z0-9]+/g, 'dep_…').replace(/bench-conc-[0-9-]+/g, 'bench-conc-…').slice(0, 220)}`;
            failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
          }
        }
      }),
    );
    return {
      setup,
      storeDescription: stack.storeDescription,
      seeding,
      deployed,
      totalMs,
      allCreatesAnsweredMs: lastCreateMs,
      finished,
      failureReasons,
      dynamo,
      loopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      taskWrites: { ...stack.logger.taskWrites },
      skippedTasks: stack.logger.counts['canary task skipped: instruction no longer current'] ?? 0,
      stackProblems: { ...stack.logger.problems },
      firstStackProblem: stack.logger.firstProblems[0],
    };
  } finally {
    await stack.stop();
  }
}

/** The most frequent few, then how many other kinds: a round that goes wrong can go wrong in dozens of ways. */
function mostFrequent(problems: Record<string, number>, shown = 4): string {
  const sorted = Object.entries(problems).sort((a, b) => b[1] - a[1]);
  const head = describeProblems(Object.fromEntries(sorted.slice(0, shown)));
  const rest = sorted.slice(shown).reduce((sum, [, n]) => sum + n, 0);
  return rest > 0 ? `${head}; and ${rest} more of ${sorted.length - shown} other kinds (all in the JSON)` : head;
}

export async function measureConcurrent(context: BenchContext): Promise<ScenarioOutcome> {
  const results: Record<string, unknown>[] = [];
  const rows: string[][] = [];
  const roundNotes: string[] = [];
  const failures: string[] = [];
  for (const [index, setup] of SETUPS.entries()) {
    const round = await runRound(index, setup, context.progress);
    const created = round.deployed.filter((d) => d.id !== undefined).length;
    const refusals: Record<string, number> = {};
    for (const d of round.deployed) if (d.refusal) refusals[d.refusal] = (refusals[d.refusal] ?? 0) + 1;
    const create = summarize(round.deployed.map((d) => d.createMs));
    const finish = summarize(round.deployed.flatMap((d) => (d.finishMs === undefined ? [] : [d.finishMs])));
    const writes = Object.values(round.taskWrites).reduce((a, b) => a + b, 0);
    const requests = sumOf(round.dynamo);
    const problems = Object.entries(round.stackProblems);
    results.push({
      proxySetup: setup,
      storeDescription: round.storeDescription,
      services: SERVICES,
      plan: PLAN,
      retries: 'the definition\'s own intervals',
      created,
      refused: SERVICES - created,
      refusals,
      finishedByStatus: round.finished,
      failureReasons: round.failureReasons,
      unfinished: round.deployed.filter((d) => d.id !== undefined && d.finishMs === undefined).length,
      totalMs: roundMs(round.totalMs),
      allCreatesAnsweredMs: roundMs(round.allCreatesAnsweredMs),
      createMs: { p50: roundMs(create.p50), p99: roundMs(create.p99), max: roundMs(create.max) },
      timeToFinishMs: { p50: roundMs(finish.p50), p99: roundMs(finish.p99), max: roundMs(finish.max), count: finish.count },
      eventLoopDelayMs: { p50: roundMs(round.loopDelayMs.p50), p99: roundMs(round.loopDelayMs.p99), max: roundMs(round.loopDelayMs.max) },
      dynamoDbRequests: round.dynamo,
      dynamoDbRequestsTotal: requests,
      taskWrites: round.taskWrites,
      taskWritesTotal: writes,
      skippedTasks: round.skippedTasks,
      stackProblems: round.stackProblems,
      firstStackProblem: round.firstStackProblem ?? null,
      seeding: { services: SERVICES, registered: round.seeding.registered, retried: round.seeding.retried, problems: round.seeding.problems, elapsedMs: Math.round(round.seeding.elapsedMs) },
      aim: AIMS.concurrent,
    });
    rows.push([
      PROXY_SETUP_NOTE[setup],
      String(created),
      String(SERVICES - created),
      Object.entries(round.finished)
        .sort((a, b) => b[1] - a[1])
        .map(([status, n]) => `${n} ${status}`)
        .join(', ') || '—',
      formatMs(round.totalMs),
      `${formatMs(create.p50)} / ${formatMs(create.p99)}`,
      `${formatMs(finish.p50)} / ${formatMs(finish.p99)}`,
      formatMs(round.loopDelayMs.p99),
      formatCount(requests),
      formatMs(round.seeding.elapsedMs),
    ]);
    const name = PROXY_SETUP_NOTE[setup];
    // Every service is different, so any refusal is a wrong one, and every run should succeed: anything else fails the run.
    if (round.seeding.registered !== SERVICES) failures.push(`${name}: ${SERVICES - round.seeding.registered} services could not be registered: ${mostFrequent(round.seeding.problems)}`);
    if (created !== SERVICES) failures.push(`${name}: ${SERVICES - created} creates refused: ${mostFrequent(refusals)}`);
    if (Object.keys(round.failureReasons).length > 0) failures.push(`${name}: not SUCCEEDED: ${mostFrequent(round.failureReasons)}`);
    roundNotes.push(
      `${name} — refused: ${created === SERVICES ? 'none' : mostFrequent(refusals)}. Not SUCCEEDED: ${Object.keys(round.failureReasons).length === 0 ? 'none' : mostFrequent(round.failureReasons)}.`,
      `${name} — task writes: ${Object.entries(round.taskWrites).map(([a, n]) => `${a} ${n}`).join(', ') || 'none'}${round.skippedTasks > 0 ? `; ${round.skippedTasks} tasks skipped as no longer current` : ''}. DynamoDB requests: ${Object.entries(round.dynamo).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${formatCount(n)} ${op}`).join(', ')}.${problems.length > 0 ? ` The stack logged ${problems.map(([m, n]) => `${n}× ${m}`).join('; ')}; first: ${round.firstStackProblem?.slice(0, 300)}` : ''}`,
      `${name} — seeding: ${SERVICES * 2} registrations in ${formatMs(round.seeding.elapsedMs)} ms; ${round.seeding.registered}/${SERVICES} services registered${round.seeding.retried > 0 ? `, ${round.seeding.retried} registrations tried again after ${mostFrequent(round.seeding.problems)}` : ''}.`,
    );
  }

  const table: Table = {
    title: `canary / concurrent: ${SERVICES} deployments of ${SERVICES} different services at once through the local stack — node ${process.version}`,
    columns: [
      { header: 'proxy groups' },
      { header: 'created (202)', align: 'right' },
      { header: 'refused', align: 'right' },
      { header: 'finished, by status' },
      { header: 'total wall ms', align: 'right' },
      { header: 'create ms p50 / p99', align: 'right' },
      { header: 'time to finish ms p50 / p99', align: 'right' },
      { header: 'event loop delay p99 ms', align: 'right' },
      { header: 'DynamoDB requests', align: 'right' },
      { header: 'seeding ms', align: 'right' },
    ],
    rows,
    notes: [
      `Aim: ${AIMS.concurrent}.`,
      `Local stack in this process on the embedded store in memory (counted), waitMs 0, retries at the definition's own intervals (1 s doubling to 30 s, full jitter, 6 retries). Plan per deployment: ${PLAN.map((s) => `setWeight ${s.setWeight}`).join(', ')}; baseline v1, canary v2, both clusters, a Spinnaker execution id each (so each create claims an idempotency key). A fresh stack per row.`,
      `All ${SERVICES} POST /v1/deployments sent at once (Promise.all, one keep-alive connection each), never retried: anything but 202 counts as refused (docs/api.md calls a 503 transient: Spinnaker would try again; no refusal here could be a 409, every service being different). total: from the first create sent to the last run ended (or the ${DEADLINE_MS / 1000} s deadline). time to finish: per deployment, from sending its create to the end of its run. Percentiles by nearest rank (p99 of 100 is the slowest but one).`,
      'event loop delay: perf_hooks.monitorEventLoopDelay over the round; the HTTP server, the store (dynalite), the SDK clients and the 100 runs share this one event loop. The DynamoDB client\'s connectionTimeout (1 s, shared/adapters/dynamodb/client.ts) also runs while a request waits for one of the SDK agent\'s 50 sockets.',
      ...roundNotes,
    ],
  };
  return { tables: [table], results, failures };
}
