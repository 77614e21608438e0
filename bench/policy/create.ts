/**
 * Scenario `policy/create`: the latency of `POST /v1/deployments` through the local stack (the
 * embedded store `npm start` uses), one create at a time, with no policy rules, with the 50 of
 * rules.ts (all applying and all allowing), and with a rules service that answers in 20 ms. With
 * rules, a create also reads what they look at (policy-check.ts): its dependencies' RUNNING
 * deployments, the service's SUCCEEDED deployments and proxy groups, the holders of its cap
 * scopes; and it claims its cap slots.
 * Each create is of a service of its own, parked at a manual gate before its analysis, so the
 * canaries running grow by one per create in both configurations alike.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startFakeRulesService } from '../../test/support/fake-rules-service.js';
import { errorRateTemplate, series, startFakePrometheus } from '../../test/support/fake-clouds/prometheus.js';
import { runChildJson } from '../lib/child-json.js';
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
/** A safety bound on one row's process, far above what a healthy row takes. */
const ROW_DEADLINE_MS = 600_000;
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

/**
 * Until the last run waits at its gate (the earlier ones did before it): stopping the stack while a
 * run's task still reads the embedded store can end the process from inside the store.
 */
async function waitParked(client: KeepAliveClient, id: string): Promise<void> {
  const deadline = Date.now() + PARK_DEADLINE_MS;
  while (Date.now() < deadline) {
    const reply = await client.send('GET', `/v1/deployments/${encodeURIComponent(id)}`);
    if (reply.status === 200 && (JSON.parse(reply.text) as { phase: string }).phase === 'PAUSED') return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`deployment ${id} did not reach its gate within ${PARK_DEADLINE_MS / 1000} s`);
}

interface RowResult {
  latencies: number[];
  failures: string[];
}

/**
 * Measures one row and hands it to `report` before the stack stops. Run in a process of its own
 * (create-row.ts): a stopped stack's last timers may still reach its closed store, which ends the
 * process from inside the store, and must neither fail the figures nor touch the next row's stack.
 */
export async function measureRow(row: number, progress: (message: string) => void, report: (result: RowResult) => void): Promise<void> {
  const configuration = CONFIGURATIONS[row]!;
  const prometheus = await startFakePrometheus({ range: () => series(0.01) });
  const setup = await configuration.start();
  const analysis = { providers: [{ name: 'prom', kind: 'prometheus', url: prometheus.url }], templates: [errorRateTemplate(TEMPLATE, 'prom')] };
  try {
    const backend = await startEmbeddedBackend({ analysis, ...setup.config });
    const client = createKeepAliveClient(backend.url, { authorization: `Bearer ${backend.adminToken}` });
    try {
      progress(`create: ${configuration.label}: registering ${WARM_UP_CREATES + CREATES} services`);
      await registerServices(client, row, WARM_UP_CREATES + CREATES);
      const latencies: number[] = [];
      const failures: string[] = [];
      let lastId: string | undefined;
      for (let index = 0; index < WARM_UP_CREATES + CREATES; index++) {
        const body = { service: serviceOf(row, index), environment: 'prod', canary: { version: 'v42' }, baseline: { version: 'v41' }, steps: PLAN };
        const elapsed = startTimer();
        const reply = await client.send('POST', '/v1/deployments', JSON.stringify(body), { 'x-idempotency-key': `bench-policy-${row}-${index}` });
        const ms = elapsed();
        if (reply.status !== 202) failures.push(`${configuration.label}: create ${index}: ${reply.status} ${reply.text.slice(0, 200)}`);
        else {
          lastId = (JSON.parse(reply.text) as { id: string }).id;
          if (index >= WARM_UP_CREATES) latencies.push(ms);
        }
      }
      if (lastId !== undefined) await waitParked(client, lastId);
      report({ latencies, failures });
    } catch (error) {
      // Said before the stack stops: a store closing under a running request may end the process first.
      progress(`create: ${configuration.label} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    } finally {
      client.close();
      await backend.stop();
    }
  } finally {
    await setup.stop();
    await prometheus.stop();
  }
}

export async function measureCreate(context: BenchContext): Promise<ScenarioOutcome> {
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  const failures: string[] = [];
  let baselineP50: number | undefined;
  for (const [row, configuration] of CONFIGURATIONS.entries()) {
    context.progress(`create: ${configuration.label} (a Node process of its own)`);
    const measured = await runChildJson<RowResult>({ script: fileURLToPath(new URL('./create-row.ts', import.meta.url)), args: [String(row)], cwd: process.cwd(), timeoutMs: ROW_DEADLINE_MS });
    failures.push(...measured.failures);
    const summary = summarize(measured.latencies);
    baselineP50 ??= summary.p50;
    rows.push([configuration.label, String(measured.latencies.length), formatMs(summary.p50), formatMs(summary.p99), row === 0 ? '—' : `+${formatMs(summary.p50 - baselineP50)}`]);
    results.push({ configuration: configuration.label, rules: configuration.rules, creates: measured.latencies.length, p50Ms: roundMs(summary.p50), p99Ms: roundMs(summary.p99), meanMs: roundMs(summary.mean), addedP50Ms: roundMs(summary.p50 - baselineP50) });
  }
  const table: Table = {
    title: 'create latency with policy rules, local stack (embedded store), c=1',
    columns: [{ header: 'configuration' }, { header: 'creates', align: 'right' }, { header: 'p50 ms', align: 'right' }, { header: 'p99 ms', align: 'right' }, { header: 'p50 added', align: 'right' }],
    rows,
    notes: [
      `POST /v1/deployments of a service of its own (environment prod, a plan with one analysis step), one at a time, after ${WARM_UP_CREATES} warm-up creates; each run parks at its gate, so the k-th create sees k canaries running.`,
      `The rules allow every create: past one-off freezes, weekly freezes three days away, whole-day deploy windows, caps of 10,000.`,
      `With any rule applying, a create first gathers what the rules look at (policy-check.ts): its dependencies' RUNNING deployments (dependency health), the service's SUCCEEDED deployments (promotion order) and proxy groups, its cap scopes' holders; then it claims a slot in each of 8 caps' scopes. The evaluation itself costs the µs of policy/evaluation, so nearly all the added time is that gathering and claiming.`,
      `The rules service row: one signed call per create to a service on 127.0.0.1 that answers allow after ${RULES_SERVICE_DELAY_MS} ms (every signature verified by the service).`,
      `Aim: ${AIMS.create}.`,
    ],
  };
  return { tables: [table], results, failures };
}
