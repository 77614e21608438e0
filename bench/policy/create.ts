/**
 * Scenario `policy/create`: the latency of `POST /v1/deployments` through the local stack (the
 * embedded store `npm start` uses), one create at a time, with no policy rules, with the 50 of
 * rules.ts (all applying and all allowing), and with a rules service that answers in 20 ms. With
 * rules, a create also reads what they look at (policy-check.ts): its dependencies' RUNNING
 * deployments, the service's SUCCEEDED deployments and proxy groups, the holders of its cap
 * scopes; and it claims its cap slots.
 * Each create is of a service of its own, parked at a manual gate before its analysis, so the
 * canaries running grow by one per create in every configuration alike.
 *
 * The rows are measured side by side so they can be compared: each configuration's stack runs in
 * a process of its own (create-stack.ts), all three at once, and the creates go round robin over
 * them. A create is sent only when every stack is idle (the previous run parked at its gate), so
 * no create shares its event loop with another run's traffic step, and load that changes during
 * the run falls on every row alike. (Rows run one after another, each in its own process, were
 * not comparable: the row with a 20 ms rules service came out faster than the row without.)
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startFakeRulesService } from '../../test/support/fake-rules-service.js';
import { errorRateTemplate, series, startFakePrometheus } from '../../test/support/fake-clouds/prometheus.js';
import { startChildService, type ChildService } from '../lib/child-service.js';
import { untilParked } from '../lib/parked.js';
import { createKeepAliveClient, type KeepAliveClient } from '../lib/http-client.js';
import { startEmbeddedBackend } from '../lib/local-backends.js';
import { sized } from '../lib/size.js';
import { roundMs, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';
import { AIMS } from './aims.js';
import { fiftyRules, RULE_COUNT } from './rules.js';

const WARM_UP_CREATES = sized(20, 1);
const CREATES = sized(200, 2);
const TEMPLATE = 'bench-golden';
const PARK_DEADLINE_MS = 60_000;
/** How often a create's run is asked whether it waits at its gate yet. */
const PARK_POLL_MS = 10;
/** A safety bound on a configuration's process, far above what a healthy run of the scenario takes. */
const STACK_DEADLINE_MS = 900_000;
/** 5%, a gate (the run parks there), then an analysis the required-analysis rules count, then 100%. */
const PLAN = [{ setWeight: 5 }, { pause: {} }, { analysis: { template: TEMPLATE, interval: '10s', count: 1 } }, { setWeight: 100 }];

/** What a row adds to the configuration, and anything it runs beside the stack (a rules service). */
interface Setup {
  config: Record<string, unknown>;
  stop(): Promise<void>;
}

interface Configuration {
  label: string;
  rules: number;
  start(): Promise<Setup>;
}

/** How long the bench's rules service takes to answer `allow`. */
const RULES_SERVICE_DELAY_MS = 20;
const RULES_SECRET_ENV = 'BENCH_RULES_SERVICE_SECRET';

/**
 * A rules service on 127.0.0.1 answering `allow` after RULES_SERVICE_DELAY_MS, verifying every
 * call's signature (an unverified call fails the row), its endpoint in the configuration. The
 * secret is in this row's own process environment, where the stack reads it.
 */
async function withRulesService(rules: unknown[]): Promise<Setup> {
  const secret = randomBytes(32).toString('hex');
  process.env[RULES_SECRET_ENV] = secret;
  const service = await startFakeRulesService({ secret, behaviour: { kind: 'slow', delayMs: RULES_SERVICE_DELAY_MS, then: { allow: true, reasons: ['bench'] } } });
  return {
    config: { policy: { rules, external: [{ name: 'change-board', url: service.url, secret: { env: RULES_SECRET_ENV }, timeoutMs: 2000 }] } },
    async stop() {
      await service.stop();
      const unverified = service.received.filter((call) => !call.verified).length;
      if (unverified > 0) throw new Error(`the rules service could not verify ${unverified} of ${service.received.length} calls`);
      if (service.received.length === 0) throw new Error('the rules service was never asked');
    },
  };
}

const CONFIGURATIONS: Configuration[] = [
  { label: 'no rules', rules: 0, start: async () => ({ config: {}, stop: async () => {} }) },
  { label: `${RULE_COUNT} rules`, rules: RULE_COUNT, start: async () => ({ config: { policy: { rules: fiftyRules(new Date(), 'prod') } }, stop: async () => {} }) },
  { label: `rules service (${RULES_SERVICE_DELAY_MS} ms)`, rules: 0, start: () => withRulesService([]) },
];

const serviceOf = (row: number, index: number) => `bench-${row}-${index}`;

async function registerServices(client: KeepAliveClient, row: number, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    for (const version of [41, 42]) {
      const body = { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: 'bench', kubernetesService: serviceOf(row, index), port: 8080, endpoints: [{ address: `10.${version}.${Math.floor(index / 250)}.${(index % 250) + 1}`, port: 8080 }] }] };
      const reply = await client.send('PUT', `/v1/services/${serviceOf(row, index)}/versions/v${version}`, JSON.stringify(body));
      if (reply.status !== 201 && reply.status !== 200) throw new Error(`registering ${serviceOf(row, index)} v${version}: ${reply.status} ${reply.text.slice(0, 200)}`);
    }
  }
}

/** The stack of one configuration, as its process (create-stack.ts) reports it when ready. */
export interface StackReady {
  url: string;
  adminToken: string;
}

/** What a configuration's process saw besides the creates: its rules service's complaints. */
export interface StackFinal {
  failures: string[];
}

/**
 * Starts one configuration's stack (in create-stack.ts, a process of its own) and registers its
 * services; `finish` stops it and checks what its rules service saw. Its own process: a stopped
 * stack's late timers may reach its closed store, which ends the process from inside the store.
 */
export async function startConfiguration(row: number, progress: (message: string) => void): Promise<{ ready: StackReady; finish(): Promise<StackFinal> }> {
  const configuration = CONFIGURATIONS[row]!;
  const prometheus = await startFakePrometheus({ range: () => series(0.01) });
  const setup = await configuration.start();
  const analysis = { providers: [{ name: 'prom', kind: 'prometheus', url: prometheus.url }], templates: [errorRateTemplate(TEMPLATE, 'prom')] };
  const backend = await startEmbeddedBackend({ analysis, ...setup.config });
  const client = createKeepAliveClient(backend.url, { authorization: `Bearer ${backend.adminToken}` });
  progress(`create: ${configuration.label}: registering ${WARM_UP_CREATES + CREATES} services`);
  await registerServices(client, row, WARM_UP_CREATES + CREATES);
  client.close();
  return {
    ready: { url: backend.url, adminToken: backend.adminToken },
    async finish() {
      const failures: string[] = [];
      for (const stop of [() => backend.stop(), () => setup.stop(), () => prometheus.stop()]) {
        await stop().catch((error: unknown) => failures.push(`${configuration.label}: ${error instanceof Error ? error.message : String(error)}`));
      }
      return { failures };
    },
  };
}

/** A running configuration, as the parent drives it. */
interface Stack {
  configuration: Configuration;
  row: number;
  client: KeepAliveClient;
  service: ChildService<StackReady, StackFinal>;
  latencies: number[];
}

async function startStacks(context: BenchContext): Promise<Stack[]> {
  const started = await Promise.allSettled(
    CONFIGURATIONS.map((_, row) => startChildService<StackReady, StackFinal>({ script: fileURLToPath(new URL('./create-stack.ts', import.meta.url)), args: [String(row)], cwd: process.cwd(), timeoutMs: STACK_DEADLINE_MS })),
  );
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (failed) {
    await Promise.allSettled(running.map((service) => service.stop()));
    throw failed.reason;
  }
  context.progress(`create: ${running.length} stacks ready`);
  return running.map((service, row) => ({ configuration: CONFIGURATIONS[row]!, row, service, latencies: [], client: createKeepAliveClient(service.ready.url, { authorization: `Bearer ${service.ready.adminToken}` }) }));
}

/**
 * One create, timed, then until its run waits at its gate: the next create (to any stack) is sent
 * only when every stack is idle, so no create shares its process with another run's work.
 */
async function createAndPark(stack: Stack, index: number): Promise<{ ms: number } | { failure: string }> {
  const { configuration, row, client } = stack;
  const body = { service: serviceOf(row, index), environment: 'prod', canary: { version: 'v42' }, baseline: { version: 'v41' }, steps: PLAN };
  const elapsed = startTimer();
  const reply = await client.send('POST', '/v1/deployments', JSON.stringify(body), { 'x-idempotency-key': `bench-policy-${row}-${index}` });
  const ms = elapsed();
  if (reply.status !== 202) return { failure: `${configuration.label}: create ${index}: ${reply.status} ${reply.text.slice(0, 200)}` };
  const id = (JSON.parse(reply.text) as { id: string }).id;
  const parking = await untilParked(client, id, performance.now() + PARK_DEADLINE_MS, PARK_POLL_MS);
  return parking.parked ? { ms } : { failure: `${configuration.label}: ${parking.problem}` };
}

/**
 * Round robin over the stacks, one create each per round, the order rotated every round so no
 * configuration always goes first: load that changes during the run falls on every row alike.
 */
async function interleaveCreates(stacks: readonly Stack[], context: BenchContext): Promise<string[]> {
  const failures: string[] = [];
  for (let index = 0; index < WARM_UP_CREATES + CREATES; index++) {
    for (let turn = 0; turn < stacks.length; turn++) {
      const stack = stacks[(index + turn) % stacks.length]!;
      const outcome = await createAndPark(stack, index);
      if ('failure' in outcome) failures.push(outcome.failure);
      else if (index >= WARM_UP_CREATES) stack.latencies.push(outcome.ms);
    }
    if (failures.length > 0) break;
    if ((index + 1) % 50 === 0) context.progress(`create: round ${index + 1}/${WARM_UP_CREATES + CREATES}`);
  }
  return failures;
}

export async function measureCreate(context: BenchContext): Promise<ScenarioOutcome> {
  const stacks = await startStacks(context);
  const failures: string[] = [];
  try {
    failures.push(...(await interleaveCreates(stacks, context)));
  } finally {
    for (const stack of stacks) {
      stack.client.close();
      failures.push(...(await stack.service.stop()).failures);
    }
  }
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  const baselineP50 = summarize(stacks[0]!.latencies).p50;
  for (const { configuration, row, latencies } of stacks) {
    const summary = summarize(latencies);
    rows.push([configuration.label, String(latencies.length), formatMs(summary.p50), formatMs(summary.p99), row === 0 ? '—' : signedMs(summary.p50 - baselineP50)]);
    results.push({ configuration: configuration.label, rules: configuration.rules, creates: latencies.length, p50Ms: roundMs(summary.p50), p99Ms: roundMs(summary.p99), meanMs: roundMs(summary.mean), addedP50Ms: roundMs(summary.p50 - baselineP50) });
  }
  const table: Table = {
    title: 'create latency with policy rules, local stack (embedded store), c=1',
    columns: [{ header: 'configuration' }, { header: 'creates', align: 'right' }, { header: 'p50 ms', align: 'right' }, { header: 'p99 ms', align: 'right' }, { header: 'p50 added', align: 'right' }],
    rows,
    notes: [
      `POST /v1/deployments of a service of its own (environment prod, a plan with one analysis step), one at a time, after ${WARM_UP_CREATES} warm-up creates per row; each run parks at its gate before the next create is sent, so the k-th create sees k canaries running and an idle stack.`,
      `The three stacks run at once, each in a process of its own, and the creates go round robin over them (the order rotated every round): the rows share the machine's load alike and are comparable.`,
      `The rules allow every create: past one-off freezes, weekly freezes three days away, whole-day deploy windows, caps of 10,000.`,
      `With any rule applying, a create first gathers what the rules look at (policy-check.ts): its dependencies' RUNNING deployments (dependency health), the service's SUCCEEDED deployments (promotion order) and proxy groups, its cap scopes' holders; then it claims a slot in each of 8 caps' scopes. The evaluation itself costs the µs of policy/evaluation, so nearly all the added time is that gathering and claiming.`,
      `The rules service row: one signed call per create to a service on 127.0.0.1 that answers allow after ${RULES_SERVICE_DELAY_MS} ms (every signature verified by the service).`,
      `Aim: ${AIMS.create}.`,
    ],
  };
  return { tables: [table], results, failures };
}

/** "+12.3" or "−4.1": a difference that can come out negative says so. */
function signedMs(ms: number): string {
  return ms < 0 ? `−${formatMs(-ms)}` : `+${formatMs(ms)}`;
}
