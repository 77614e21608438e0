/**
 * Scenario `canary/orchestration`: what the canary's orchestration costs per step when nothing
 * else takes time. A 10-step canary with zero waits runs through the local stack (the real ASL
 * definition on aws-local-stepfunctions, every Task state calling the same task code the Lambda
 * runs, the HTTP API in front); wall time from the create request to the end of the run, divided
 * by the steps.
 *
 * The stack is started the way local/stack.ts is used by tests: in this process, port 0, waitMs 0
 * and retryMs 0 (every timed hold and every retry interval is 0 ms), CROSSFADE_STATE_MACHINE_ARN
 * unset (so the run is in-process), and a configuration file of the bench's own: the two clusters
 * and one Envoy proxy group per cloud with `proxies: []`. Each shift still writes the split to the
 * registry and publishes both groups' snapshots (publishSnapshots), but with no proxy listed there
 * is nobody to wait for: convergence is immediate, so no HAProxy and no Envoy is involved and what is
 * measured is orchestration and the store.
 *
 * Also exports the stack, registration and request helpers the `concurrent` scenario shares.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStateMachine } from '../../shared/adapters/workflow/local-state-machine.js';
import type { Logger } from '../../shared/ports/logger.js';
import { startLocalStack } from '../../local/stack.js';
import { startDynamoDbLocal } from '../../test/support/dynamodb-local.js';
import { countsSince, startCountedDynalite, sumOf, type OperationCounts } from '../lib/dynamo-counts.js';
import { createKeepAliveClient, type KeepAliveClient, type Reply } from '../lib/http-client.js';
import { dynamoDbLocalUnavailable } from '../lib/local-backends.js';
import { isTiny, sized } from '../lib/size.js';
import { roundMs, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';
import { AIMS } from './aims.js';

// ---- the local stack as the canary benches start it ----

export const BENCH_CLUSTERS = [
  { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' },
  { name: 'gke-usc1', cloud: 'gcp', project: 'crossfade-bench', location: 'us-central1' },
] as const;

/** One Envoy group per cloud, no proxy listed: every shift publishes snapshots, and convergence has nobody to wait for. */
const ENVOY_GROUPS_WITHOUT_PROXIES = [
  { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] },
  { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [] },
] as const;

export type StoreKind = 'embedded' | 'embedded-counted' | 'dynamodb-local';
export type ProxySetup = 'envoy-groups-no-proxies' | 'no-proxy-groups';

export const PROXY_SETUP_NOTE: Record<ProxySetup, string> = {
  'envoy-groups-no-proxies': '2 Envoy groups (one per cloud), proxies: []',
  'no-proxy-groups': 'no proxy groups',
};

/** What the stack logged, counted (nothing is written): which tasks wrote, and every warning or error. */
export interface TallyLogger extends Logger {
  counts: Record<string, number>;
  /** Task writes by action ('canary task done'). */
  taskWrites: Record<string, number>;
  /** Warnings and errors, message → count, plus the first few in full. */
  problems: Record<string, number>;
  firstProblems: string[];
}

export function tallyLogger(): TallyLogger {
  const logger: TallyLogger = {
    counts: {},
    taskWrites: {},
    problems: {},
    firstProblems: [],
    info(message, fields) {
      logger.counts[message] = (logger.counts[message] ?? 0) + 1;
      if (message === 'canary task done') {
        const action = String(fields?.['action'] ?? '?');
        logger.taskWrites[action] = (logger.taskWrites[action] ?? 0) + 1;
      }
    },
    warn: (message, fields) => problem('warn', message, fields),
    error: (message, fields) => problem('error', message, fields),
    child: () => logger,
  };
  function problem(level: string, message: string, fields: Record<string, unknown> | undefined): void {
    logger.counts[message] = (logger.counts[message] ?? 0) + 1;
    logger.problems[`${level}: ${message}`] = (logger.problems[`${level}: ${message}`] ?? 0) + 1;
    if (logger.firstProblems.length < 10) logger.firstProblems.push(`${level}: ${message} ${JSON.stringify(fields ?? {}).slice(0, 400)}`);
  }
  return logger;
}

export interface CanaryStack {
  store: StoreKind;
  storeDescription: string;
  proxies: ProxySetup;
  client: KeepAliveClient;
  runner: LocalStateMachine;
  logger: TallyLogger;
  /** DynamoDB requests by operation so far; only on the counted embedded store. */
  dynamoCounts: (() => OperationCounts) | undefined;
  stop(): Promise<void>;
}

/** Credentials DynamoDB Local accepts; it scopes tables by access key, any key works. */
const FAKE_AWS = { AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fakesecretfakesecret', AWS_REGION: 'us-east-1' };

/**
 * A local stack on `store` with `proxies`, canaries in this process with 0 ms waits and (unless
 * `options.retryMs` says otherwise; undefined: the definition's own intervals) 0 ms retries.
 * `embedded`: the stack's own embedded store, in memory (persist: false). `embedded-counted`: the
 * same dynalite in memory, started by the bench with a request hook and named to the stack by
 * CROSSFADE_DYNAMODB_ENDPOINT, so every request can be counted. `dynamodb-local`: DynamoDB Local (Java).
 */
export async function startCanaryStack(store: StoreKind, proxies: ProxySetup, options: { retryMs?: number | undefined } = { retryMs: 0 }): Promise<CanaryStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const dataDir = await mkdtemp(join(tmpdir(), 'crossfade-bench-canary-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const configPath = join(dataDir, 'crossfade.json');
    await writeFile(configPath, JSON.stringify({ clusters: BENCH_CLUSTERS, proxyGroups: proxies === 'envoy-groups-no-proxies' ? ENVOY_GROUPS_WITHOUT_PROXIES : [] }));
    const env: Record<string, string | undefined> = {
      ...process.env,
      CROSSFADE_LOG_LEVEL: 'silent',
      CROSSFADE_CONFIG: configPath,
      CROSSFADE_ADMIN_TOKEN: randomBytes(20).toString('hex'),
    };
    // In-process canaries on the store chosen here, whatever the shell exported.
    for (const key of ['CROSSFADE_DYNAMODB_ENDPOINT', 'CROSSFADE_STATE_MACHINE_ARN', 'CROSSFADE_LOCAL_WAIT_MS', 'CROSSFADE_LOCAL_RETRY_MS', 'CROSSFADE_TABLE']) delete env[key];
    let dynamoCounts: (() => OperationCounts) | undefined;
    let storeDescription = '';
    if (store === 'embedded-counted') {
      const counted = await startCountedDynalite();
      cleanups.push(() => counted.stop());
      Object.assign(env, { CROSSFADE_DYNAMODB_ENDPOINT: counted.endpoint, CROSSFADE_TABLE: `crossfade-bench-${randomUUID().slice(0, 8)}`, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' });
      dynamoCounts = counted.counts;
      storeDescription = 'embedded store in memory, counted (dynalite with a request hook, via CROSSFADE_DYNAMODB_ENDPOINT)';
    } else if (store === 'dynamodb-local') {
      const dynamo = await startDynamoDbLocal();
      cleanups.push(() => dynamo.stop());
      Object.assign(env, { ...FAKE_AWS, CROSSFADE_DYNAMODB_ENDPOINT: dynamo.endpoint, CROSSFADE_TABLE: `crossfade-bench-${randomUUID().slice(0, 8)}` });
      storeDescription = 'DynamoDB Local (in memory, Java)';
    }
    const logger = tallyLogger();
    const stack = await startLocalStack({ env, dataDir, persist: false, port: 0, waitMs: 0, retryMs: options.retryMs, logger });
    cleanups.push(() => stack.stop());
    if (!stack.canaryRunner) throw new Error('the local stack has no in-process canary runner (is CROSSFADE_STATE_MACHINE_ARN set?)');
    const client = createKeepAliveClient(stack.url, { authorization: `Bearer ${stack.adminToken}` });
    cleanups.push(async () => client.close());
    return {
      store,
      storeDescription: storeDescription || stack.storeDescription,
      proxies,
      client,
      runner: stack.canaryRunner,
      logger,
      dynamoCounts,
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

// ---- requests ----

export const BASELINE = 'v1';
export const CANARY = 'v2';

/** A version with one explicit endpoint in each cluster: nothing is discovered. */
export function registrationBody(service: string, version: string, index: number): Record<string, unknown> {
  const host = (index % 250) + 1;
  const octet = version === BASELINE ? 1 : 2;
  return {
    targets: [
      { cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: `${service}-${version}`, port: 8080, endpoints: [{ address: `10.${octet}.${Math.floor(index / 250)}.${host}`, port: 8080, zone: 'us-east-1a' }] },
      { cloud: 'gcp', cluster: 'gke-usc1', namespace: service, kubernetesService: `${service}-${version}`, port: 8080, endpoints: [{ address: `10.${octet + 100}.${Math.floor(index / 250)}.${host}`, port: 8080 }] },
    ],
  };
}

/** PUTs v1 then v2; the answers (201 created, 200 unchanged; anything else is a problem). */
export async function registerService(client: KeepAliveClient, service: string, index: number): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (const version of [BASELINE, CANARY]) replies.push(await client.send('PUT', `/v1/services/${service}/versions/${version}`, JSON.stringify(registrationBody(service, version, index))));
  return replies;
}

export function deploymentRequest(service: string, steps: readonly Record<string, unknown>[], executionId: string): Record<string, unknown> {
  return {
    service,
    baseline: { version: BASELINE },
    canary: { version: CANARY },
    targets: [
      { cloud: 'aws', cluster: 'eks-use1' },
      { cloud: 'gcp', cluster: 'gke-usc1' },
    ],
    steps,
    // What Spinnaker's webhook stage sends: the create claims an idempotency key as it would in production.
    spinnaker: { executionId, stageId: '1', application: service, pipeline: 'bench' },
  };
}

/** "409 CONFLICT: service … is held by dep_…", compactly, so equal refusals count together. */
export function problemOf(reply: Reply): string {
  try {
    const error = (JSON.parse(reply.text) as { error?: { code?: string; message?: string } }).error;
    if (error) return `${reply.status} ${error.code}: ${(error.message ?? '').replace(/dep_[A-Za-z0-9]+/g, 'dep_…').slice(0, 160)}`;
  } catch {
    // Not our JSON error body: show its start as it is.
  }
  return `${reply.status} ${reply.text.slice(0, 120)}`;
}

export interface StatusDoc {
  id: string;
  status: string;
  phase: string;
  result: { outcome?: string; reason?: string } | null;
}

export async function readStatus(client: KeepAliveClient, id: string): Promise<StatusDoc> {
  const reply = await client.send('GET', `/v1/deployments/${encodeURIComponent(id)}`);
  if (reply.status !== 200) throw new Error(`GET /v1/deployments/${id}: ${problemOf(reply)}`);
  return JSON.parse(reply.text) as StatusDoc;
}

interface AuditEvent {
  at: string;
  action: string;
  details: Record<string, unknown>;
}

async function readEvents(client: KeepAliveClient, id: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | null = null;
  do {
    const path: string = `/v1/deployments/${encodeURIComponent(id)}/events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const reply = await client.send('GET', path);
    if (reply.status !== 200) throw new Error(`GET ${path}: ${problemOf(reply)}`);
    const page = JSON.parse(reply.text) as { items: AuditEvent[]; nextCursor: string | null };
    events.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return events.sort((a, b) => a.at.localeCompare(b.at));
}

// ---- the scenario ----

const STEPS = 10;
/** Plans of STEPS steps. Pauses need a duration of at least 1 s; waitMs: 0 makes each timed hold 0 ms. */
const PLANS = {
  'setWeight ×10': Array.from({ length: STEPS }, (_, i) => ({ setWeight: (i + 1) * 10 })),
  'setWeight ×5 + pause 1s ×5': Array.from({ length: STEPS }, (_, i) => (i % 2 === 0 ? { setWeight: (i / 2 + 1) * 20 } : { pause: { duration: '1s' } })),
} as const;
type PlanName = keyof typeof PLANS;

interface Setup {
  store: StoreKind;
  proxies: ProxySetup;
  plans: PlanName[];
  runs: number;
  /** Not the headline configuration: printed as a comparison. */
  comparison?: string;
}

const SETUPS: Setup[] = [
  { store: 'embedded', proxies: 'envoy-groups-no-proxies', plans: ['setWeight ×10', 'setWeight ×5 + pause 1s ×5'], runs: sized(10, 1) },
  { store: 'embedded-counted', proxies: 'envoy-groups-no-proxies', plans: ['setWeight ×10'], runs: sized(5, 1) },
  { store: 'dynamodb-local', proxies: 'envoy-groups-no-proxies', plans: ['setWeight ×10'], runs: sized(5, 1) },
  { store: 'embedded-counted', proxies: 'no-proxy-groups', plans: ['setWeight ×10'], runs: sized(5, 1), comparison: 'what snapshot publishing adds: the counted row again with no proxy group configured' },
];
const WARM_UP_RUNS = sized(1, 0);
/** A safety bound per run, far above a healthy one: a run that hangs is reported, not waited for. */
const RUN_DEADLINE_MS = 120_000;

interface RunFigures {
  wallMs: number;
  /** This process's CPU time (user + system) over the run: the HTTP server, the state machine, the SDK and, on the embedded store, the store. */
  cpuMs: number;
  createMs: number;
  /** From the prepare event to the event completing the last step (audit timestamps, ms resolution). */
  stepsSpanMs: number;
  outcome: string;
  status: string;
  events: Record<string, number>;
  taskWrites: Record<string, number>;
  dynamo: OperationCounts | undefined;
}

async function runOnce(stack: CanaryStack, service: string, plan: PlanName, executionId: string): Promise<RunFigures> {
  const steps = PLANS[plan];
  const writesBefore = { ...stack.logger.taskWrites };
  const dynamoBefore = stack.dynamoCounts?.();
  const cpuBefore = process.cpuUsage();
  const elapsed = startTimer();
  const reply = await stack.client.send('POST', '/v1/deployments', JSON.stringify(deploymentRequest(service, steps, executionId)));
  const createMs = elapsed();
  if (reply.status !== 202) throw new Error(`POST /v1/deployments for ${service}: ${problemOf(reply)}`);
  const { id } = JSON.parse(reply.text) as { id: string };
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    stack.runner.settled(id),
    new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), RUN_DEADLINE_MS))),
  ]).finally(() => clearTimeout(timer));
  const wallMs = elapsed();
  const cpu = process.cpuUsage(cpuBefore);
  const dynamo = dynamoBefore && stack.dynamoCounts ? countsSince(dynamoBefore, stack.dynamoCounts()) : undefined;
  if (outcome === 'deadline') throw new Error(`deployment ${id} of ${service} did not finish within ${RUN_DEADLINE_MS / 1000} s`);

  const status = await readStatus(stack.client, id);
  const events = await readEvents(stack.client, id);
  const at = (event: AuditEvent | undefined) => (event ? Date.parse(event.at) : Number.NaN);
  const prepared = events.find((e) => e.action === 'deployment.prepare');
  const lastStepDone = events.find((e) => typeof e.details['stepIndex'] === 'number' && (e.details['stepIndex'] as number) >= steps.length);
  const byAction: Record<string, number> = {};
  for (const event of events) {
    const action = event.action.replace(/^deployment\./, '');
    byAction[action] = (byAction[action] ?? 0) + 1;
  }
  const taskWrites: Record<string, number> = {};
  for (const [action, n] of Object.entries(stack.logger.taskWrites)) if (n - (writesBefore[action] ?? 0) > 0) taskWrites[action] = n - (writesBefore[action] ?? 0);
  return {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    createMs,
    stepsSpanMs: at(lastStepDone) - at(prepared),
    outcome,
    status: status.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${status.status} (${status.phase}): ${status.result?.reason ?? 'no reason'}`,
    events: byAction,
    taskWrites,
    dynamo,
  };
}

/** "prepare 1, shift 10, converge 10, promote 1, release 1" in the order the run makes them. */
const ACTION_ORDER = ['created', 'prepare', 'shift', 'converge', 'hold', 'unhold', 'promote', 'rollback', 'recover', 'give-up', 'release'];
function describeCounts(counts: Record<string, number>): string {
  const rank = (action: string) => (ACTION_ORDER.includes(action) ? ACTION_ORDER.indexOf(action) : ACTION_ORDER.length);
  return Object.entries(counts)
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]))
    .map(([action, n]) => `${action} ${n}`)
    .join(', ');
}

function describeOperations(counts: OperationCounts): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([operation, n]) => `${formatCount(n)} ${operation}`)
    .join(', ');
}

export async function measureOrchestration(context: BenchContext): Promise<ScenarioOutcome> {
  const results: Record<string, unknown>[] = [];
  const rows: string[][] = [];
  const skippedNotes: string[] = [];
  const problemNotes: string[] = [];
  const countedNotes: string[] = [];
  // A JVM start would be most of a tiny run's time; the runs are the same on the embedded store.
  const javaProblem = isTiny() ? 'not at the tiny size' : dynamoDbLocalUnavailable();
  const failures: string[] = [];

  for (const [setupIndex, setup] of SETUPS.entries()) {
    if (setup.store === 'dynamodb-local' && javaProblem) {
      skippedNotes.push(`DynamoDB Local skipped: ${javaProblem}.`);
      continue;
    }
    context.progress(`starting the local stack on the ${setup.store} store, ${PROXY_SETUP_NOTE[setup.proxies]}`);
    const stack = await startCanaryStack(setup.store, setup.proxies);
    try {
      // A service per run, registered before its run is timed: a promoted canary serves 100%, and
      // deploying the version that already serves everything is refused.
      let services = 0;
      const freshService = async (): Promise<string> => {
        const service = `bench-orch-${setupIndex + 1}-${++services}`;
        const registered = await registerService(stack.client, service, setupIndex);
        const refused = registered.filter((r) => r.status !== 201 && r.status !== 200);
        if (refused.length > 0) throw new Error(`registering ${service}: ${refused.map(problemOf).join('; ')}`);
        return service;
      };

      for (const plan of setup.plans) {
        const runId = randomUUID().slice(0, 8);
        const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
        context.progress(`${setup.store} / ${plan}: ${WARM_UP_RUNS} warm-up run, then ${setup.runs} runs one after another`);
        const warmUps: RunFigures[] = [];
        for (let i = 0; i < WARM_UP_RUNS; i++) warmUps.push(await runOnce(stack, await freshService(), plan, `warm-${runId}-${i}`));
        const runs: RunFigures[] = [];
        for (let i = 0; i < setup.runs; i++) runs.push(await runOnce(stack, await freshService(), plan, `run-${runId}-${i}`));

        const wall = summarize(runs.map((r) => r.wallMs));
        const perStep = summarize(runs.map((r) => r.wallMs / STEPS));
        const cpuPerStep = summarize(runs.map((r) => r.cpuMs / STEPS));
        const inSteps = summarize(runs.map((r) => r.stepsSpanMs / STEPS));
        const fixed = summarize(runs.map((r) => r.wallMs - r.stepsSpanMs));
        const create = summarize(runs.map((r) => r.createMs));
        const statuses: Record<string, number> = {};
        for (const r of runs) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        // A run that did not succeed measured something else than a canary: the run fails.
        for (const [status, n] of Object.entries(statuses)) if (status !== 'SUCCEEDED') failures.push(`${label(setup)} / ${plan}: ${n}× ${status}`);
        const last = runs.at(-1)!;
        const writesPerRun = Object.values(last.taskWrites).reduce((a, b) => a + b, 0);
        const dynamoPerRun = runs.every((r) => r.dynamo) ? summarize(runs.map((r) => sumOf(r.dynamo!))) : undefined;
        results.push({
          store: setup.store,
          storeDescription: stack.storeDescription,
          proxySetup: setup.proxies,
          comparison: setup.comparison ?? null,
          plan,
          steps: STEPS,
          runs: setup.runs,
          warmUpWallMs: warmUps.map((w) => roundMs(w.wallMs)),
          wallMs: { median: roundMs(wall.p50), p90: roundMs(wall.p90), min: roundMs(wall.min), max: roundMs(wall.max) },
          perStepMs: { median: roundMs(perStep.p50), p90: roundMs(perStep.p90), min: roundMs(perStep.min), max: roundMs(perStep.max) },
          cpuPerStepMs: { median: roundMs(cpuPerStep.p50), p90: roundMs(cpuPerStep.p90) },
          loadAverageAtStart: loadAtStart,
          inStepsPerStepMs: { median: roundMs(inSteps.p50), p90: roundMs(inSteps.p90) },
          fixedMs: { median: roundMs(fixed.p50), p90: roundMs(fixed.p90) },
          createMs: { median: roundMs(create.p50), p90: roundMs(create.p90) },
          statuses,
          auditEventsPerRun: last.events,
          taskWritesPerRun: last.taskWrites,
          dynamoDbRequestsPerRun: last.dynamo ?? null,
          dynamoDbRequestsPerRunMedian: dynamoPerRun ? dynamoPerRun.p50 : null,
          dynamoDbRequestsPerStep: dynamoPerRun ? Math.round((dynamoPerRun.p50 / STEPS) * 10) / 10 : null,
          runsMs: runs.map((r) => roundMs(r.wallMs)),
          aim: setup.comparison ? null : AIMS.orchestration,
        });
        rows.push([
          label(setup),
          plan,
          String(setup.runs),
          `${formatMs(wall.p50)} / ${formatMs(wall.p90)}`,
          `${formatMs(perStep.p50)} / ${formatMs(perStep.p90)}`,
          formatMs(cpuPerStep.p50),
          formatMs(inSteps.p50),
          formatMs(fixed.p50),
          formatMs(create.p50),
          `${writesPerRun} (${(writesPerRun / STEPS).toFixed(1)}/step)`,
          dynamoPerRun ? `${formatCount(dynamoPerRun.p50)} (${(dynamoPerRun.p50 / STEPS).toFixed(1)}/step)` : '—',
          Object.entries(statuses)
            .map(([s, n]) => `${n}× ${s}`)
            .join('; '),
        ]);
        if (last.dynamo) countedNotes.push(`DynamoDB requests of one run, ${label(setup)} (create request to end of run): ${describeOperations(last.dynamo)}.`);
        if (plan === 'setWeight ×10' && setup.store === 'embedded' && setup.proxies === 'envoy-groups-no-proxies') {
          problemNotes.push(`Audit events of one ${plan} run: ${describeCounts(last.events)}; task writes the logger saw: ${describeCounts(last.taskWrites)}.`);
        }
      }
      if (setup.comparison) problemNotes.push(`${label(setup)} (a comparison, not the configuration the aim is about): ${setup.comparison}.`);
      const problems = Object.entries(stack.logger.problems);
      if (problems.length > 0) problemNotes.push(`${label(setup)}: the stack logged ${problems.map(([m, n]) => `${n}× ${m}`).join('; ')}. First: ${stack.logger.firstProblems[0]}`);
      const skipped = stack.logger.counts['canary task skipped: instruction no longer current'] ?? 0;
      if (skipped > 0) problemNotes.push(`${label(setup)}: ${skipped} tasks skipped as no longer current (a retry whose work had landed).`);
    } finally {
      await stack.stop();
    }
  }

  const table: Table = {
    title: `canary / orchestration: a ${STEPS}-step canary with zero waits through the local stack — node ${process.version}`,
    columns: [
      { header: 'store' },
      { header: 'plan' },
      { header: 'runs', align: 'right' },
      { header: 'wall ms p50 / p90', align: 'right' },
      { header: 'ms / step p50 / p90', align: 'right' },
      { header: 'CPU ms / step', align: 'right' },
      { header: 'in-step ms / step', align: 'right' },
      { header: 'fixed ms', align: 'right' },
      { header: 'create ms', align: 'right' },
      { header: 'task writes / run', align: 'right' },
      { header: 'DynamoDB req / run', align: 'right' },
      { header: 'outcome' },
    ],
    rows,
    notes: [
      `Aim: ${AIMS.orchestration} (the ms / step column).`,
      `Local stack (local/stack.ts) in this process: HTTP API on 127.0.0.1, the canary on aws-local-stepfunctions with the real definition, waitMs 0 and retryMs 0; configuration: clusters eks-use1 + gke-usc1 and ${PROXY_SETUP_NOTE['envoy-groups-no-proxies']} (unless the row says otherwise). Every shift writes the split and publishes both groups' snapshots; with no proxy listed, convergence is immediate. No HAProxy, no Envoy, no analysis step.`,
      'wall: from sending POST /v1/deployments to the end of the run (canaryRunner.settled: promote and release included), runs one after another on one service (v1 → v2, a new Spinnaker execution id each). ms / step = wall / 10. Median and p90 by nearest rank (p90 of 5 or 10 runs is the slowest or second slowest), after 1 warm-up run.',
      'CPU ms / step: this process\'s CPU time (user + system, process.cpuUsage) over the run / 10. Everything but DynamoDB Local runs in this process, so on the embedded store it is roughly what the wall time would be on an idle machine (it also counts GC and libuv threads); DynamoDB Local\'s own CPU (Java) is not in it. The load average when each row started is in the JSON.',
      'in-step: from the prepare audit event to the event completing the last step, / 10 (the steps alone; audit timestamps, ms resolution). fixed: wall minus that span (create, first Decide, prepare, promote, release, and the HTTP round trips). create: the POST alone.',
      'task writes: Task states that wrote the deployment (one write, one audit event each; the first Decide reads only). A setWeight step is two tasks (Shift, AwaitConvergence), a pause two (Hold, which stores the token of the hold, then HoldTimedOut after 0 ms, which closes it).',
      ...countedNotes,
      ...problemNotes,
      ...skippedNotes,
      'The store, the SDK clients, the HTTP server and the state machine share this one process: the store\'s CPU time is in every figure.',
    ],
  };
  return { tables: [table], results, failures };
}

function label(setup: Setup): string {
  return `${setup.store === 'embedded-counted' ? 'embedded, counted' : setup.store}${setup.proxies === 'no-proxy-groups' ? ', no proxy groups' : ''}`;
}
