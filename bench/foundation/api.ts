/** Scenario `foundation/api`: create, read and list on the local stack, over the embedded store and DynamoDB Local. */
import { deploymentBody } from '../../test/support/requests.js';
import { untilParked } from '../lib/parked.js';
import { createKeepAliveClient, type KeepAliveClient, type Reply } from '../lib/http-client.js';
import { describeProblems, runLoad, type LoadResult, type TaskOutcome } from '../lib/load.js';
import { dynamoDbLocalUnavailable, startDynamoDbLocalBackend, startEmbeddedBackend, type ApiBackend } from '../lib/local-backends.js';
import { watchGc, type GcPauses } from '../lib/gc-watch.js';
import { isTiny, sized } from '../lib/size.js';
import { roundMs, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';

import { AIMS } from './aims.js';

const CELLS = sized(
  [
    { concurrency: 1, requests: 300 },
    { concurrency: 32, requests: 2000 },
  ],
  [
    { concurrency: 1, requests: 3 },
    { concurrency: 2, requests: 4 },
  ],
);
const WARMUP_REQUESTS = sized(50, 2);
const SERVICE_COUNT = sized(20, 4);
/**
 * A service holds one deployment at a time, so every create gets a service of its own, registered
 * before the cells run (baseline and canary, one explicit endpoint each). Its plan parks the run at
 * a manual gate after the first step: the runs the creates start stay put while reads are measured.
 */
/**
 * Creates are the slow request (each writes six items and starts a run, which then shares this
 * process with the load): fewer of them at c=32 keep the cell well inside its deadline.
 */
const CREATE_CELLS = sized(
  [
    { concurrency: 1, requests: 300 },
    { concurrency: 32, requests: 500 },
  ],
  [
    { concurrency: 1, requests: 3 },
    { concurrency: 2, requests: 3 },
  ],
);
const CREATES = WARMUP_REQUESTS + CREATE_CELLS.reduce((sum, cell) => sum + cell.requests, 0);
const REGISTER_CONCURRENCY = 16;
const PLAN = [{ setWeight: 5, wave: ['gcp'] }, { pause: {} }, { setWeight: 100 }];
/** A safety bound, far above what a healthy cell takes: no cell runs longer than this. */
const CELL_DEADLINE_MS = 60_000;

interface RequestKind {
  label: string;
  expectedStatus: number;
  /** Its cells, when not CELLS. */
  cells?: readonly { concurrency: number; requests: number }[];
  /** Other statuses that are a right answer too; `answered` counts each status per cell. */
  alsoAccepted?: number[];
  answered?: Map<number, number>;
  send(client: KeepAliveClient, index: number): Promise<Reply>;
  /** Extra checks on a reply with the expected status; a string names what is wrong. */
  check?(reply: Reply): string | undefined;
}

const createdService = (index: number) => `create-${index + 1}`;

/** Registers baseline v41 and canary v42 of every service a create will name. */
async function registerCreateServices(client: KeepAliveClient, context: BenchContext): Promise<void> {
  const registration = (index: number, version: number) => ({
    targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: 'bench', kubernetesService: createdService(index), port: 8080, endpoints: [{ address: `10.${version}.${Math.floor(index / 250)}.${(index % 250) + 1}`, port: 8080 }] }],
  });
  context.progress(`api: registering ${CREATES} services for the creates`);
  const load = await runLoad({
    total: CREATES * 2,
    concurrency: REGISTER_CONCURRENCY,
    deadlineMs: CELL_DEADLINE_MS * 4,
    async task(i) {
      // Baseline before canary: the first version of a service takes 100%, a later one enters at 0%.
      const index = i % CREATES;
      const version = i < CREATES ? 41 : 42;
      const reply = await client.send('PUT', `/v1/services/${createdService(index)}/versions/v${version}`, JSON.stringify(registration(index, version)));
      return reply.status === 201 || reply.status === 200 ? { ok: true } : { ok: false, problem: `${reply.status} ${reply.text.slice(0, 120)}` };
    },
  });
  if (load.errors > 0 || load.stoppedByDeadline) throw new Error(`registering the services failed: ${describeProblems(load.problems)}${load.stoppedByDeadline ? ' (stopped at the deadline)' : ''}`);
}

/** Create, then read what was created, then list: every GET finds deployments the POSTs made. `createdIds` collects the ids the creates answered. */
function requestKinds(runId: string, createdIds: string[]): RequestKind[] {
  /** The last entity tag read per deployment. */
  const tags = new Map<string, string>();
  let created = 0;
  return [
    {
      label: 'POST /v1/deployments',
      expectedStatus: 202,
      cells: CREATE_CELLS,
      send(client) {
        // A unique execution id per request: each is a new deployment, not an idempotent replay.
        const n = created++;
        const service = createdService(n);
        const body = deploymentBody({ service, steps: PLAN, spinnaker: { executionId: `bench-${runId}-${n}`, stageId: '1', application: service, pipeline: 'bench' } });
        return client.send('POST', '/v1/deployments', JSON.stringify(body));
      },
      check(reply) {
        const id = (JSON.parse(reply.text) as { id?: unknown }).id;
        if (typeof id !== 'string') return '202 without an id';
        createdIds.push(id);
        return undefined;
      },
    },
    {
      label: 'GET /v1/deployments/{id}',
      expectedStatus: 200,
      async send(client, index) {
        if (createdIds.length === 0) throw new Error('no deployment was created to read');
        const id = createdIds[index % createdIds.length]!;
        const reply = await client.send('GET', `/v1/deployments/${encodeURIComponent(id)}`);
        // Kept for the conditional reads of the next kind, which read the same ids in the same order.
        if (reply.headers['etag']) tags.set(id, reply.headers['etag']);
        return reply;
      },
    },
    {
      // What a watcher's or Orca's poll costs while nothing changed: one read, no body. A deployment
      // that moved on answers 200 with its new tag (kept for the next poll); both count as answered.
      label: 'GET /v1/deployments/{id} If-None-Match',
      expectedStatus: 304,
      alsoAccepted: [200],
      answered: new Map(),
      async send(client, index) {
        if (createdIds.length === 0) throw new Error('no deployment was created to read');
        const id = createdIds[index % createdIds.length]!;
        const path = `/v1/deployments/${encodeURIComponent(id)}`;
        const reply = await client.send('GET', path, undefined, tags.has(id) ? { 'if-none-match': tags.get(id)! } : {});
        if (reply.headers['etag']) tags.set(id, reply.headers['etag']);
        return reply;
      },
    },
    {
      label: 'GET /v1/deployments?service=…&limit=20',
      expectedStatus: 200,
      send: (client, index) => client.send('GET', `/v1/deployments?service=${createdService(index % SERVICE_COUNT)}&limit=20`),
    },
  ];
}

async function attempt(kind: RequestKind, client: KeepAliveClient, index: number): Promise<TaskOutcome> {
  const reply = await kind.send(client, index);
  kind.answered?.set(reply.status, (kind.answered.get(reply.status) ?? 0) + 1);
  if (reply.status !== kind.expectedStatus && !kind.alsoAccepted?.includes(reply.status)) {
    let code = reply.text.slice(0, 80);
    try {
      const error = (JSON.parse(reply.text) as { error?: { code?: string; message?: string } }).error;
      code = `${error?.code}: ${error?.message?.slice(0, 80)}`;
    } catch {
      // Not our JSON error body: show its start as it is.
    }
    return { ok: false, problem: `${reply.status} ${code}` };
  }
  const wrong = kind.check?.(reply);
  return wrong === undefined ? { ok: true } : { ok: false, problem: wrong };
}

interface BackendStart {
  name: string;
  unavailable(): string | undefined;
  start(): Promise<ApiBackend>;
}

const BACKENDS: BackendStart[] = [
  { name: 'embedded', unavailable: () => undefined, start: startEmbeddedBackend },
  // A JVM start would be most of a tiny run's time; the requests are the same on the embedded store.
  { name: 'dynamodb-local', unavailable: () => (isTiny() ? 'not at the tiny size' : dynamoDbLocalUnavailable()), start: startDynamoDbLocalBackend },
];

type ApiRow = Record<string, unknown> & { backend: string };

function rowOf(backend: ApiBackend, kind: RequestKind, concurrency: number, planned: number, load: LoadResult, gc: GcPauses): ApiRow {
  const latency = summarize(load.latenciesMs);
  return {
    backend: backend.name,
    store: backend.store,
    request: kind.label,
    concurrency,
    requests: planned,
    sent: load.sent,
    ok: load.ok,
    errors: load.errors,
    problems: load.problems,
    latencyMs: { p50: roundMs(latency.p50), p90: roundMs(latency.p90), p99: roundMs(latency.p99), max: roundMs(latency.max), mean: roundMs(latency.mean) },
    // Successful requests per second of the cell's wall time.
    requestsPerSecond: Math.round((load.ok / load.elapsedMs) * 1000),
    elapsedMs: Math.round(load.elapsedMs),
    stoppedByDeadline: load.stoppedByDeadline,
    gcPauses: { count: gc.count, totalMs: roundMs(gc.totalMs), maxMs: roundMs(gc.maxMs) },
    aim: backend.name === 'embedded' && kind.label.startsWith('GET') ? AIMS.getLatency : null,
    ...(kind.answered ? { statuses: Object.fromEntries(kind.answered) } : {}),
  };
}

/**
 * Until every created run waits at its gate: stopping the stack while a run's task still reads the
 * embedded store ends the process from inside the store (dynalite throws on a closed iterator).
 * At the tiny size, or when requests fail fast, the last runs are still starting when the cells end.
 * A run that ends anywhere but at its gate is a failure of the scenario.
 */
async function waitParked(client: KeepAliveClient, createdIds: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  const deadline = performance.now() + CELL_DEADLINE_MS;
  for (const id of createdIds) {
    const parking = await untilParked(client, id, deadline, 50);
    if (parking.parked) continue;
    problems.push(parking.timedOut ? `${parking.problem}: ${CELL_DEADLINE_MS / 1000} s` : parking.problem);
    if (parking.timedOut) return problems;
  }
  return problems;
}

async function measureBackend(backend: ApiBackend, context: BenchContext): Promise<{ rows: ApiRow[]; unparked: string[] }> {
  const client = createKeepAliveClient(backend.url, { authorization: `Bearer ${backend.adminToken}` });
  const rows: ApiRow[] = [];
  const createdIds: string[] = [];
  try {
    await registerCreateServices(client, context);
    for (const kind of requestKinds(Date.now().toString(36), createdIds)) {
      context.progress(`api: ${backend.name}: ${kind.label}: warm-up`);
      // Uncounted: JIT, connection set-up and the store's first reads happen here, not in the figures.
      await runLoad({ total: WARMUP_REQUESTS, concurrency: 1, deadlineMs: CELL_DEADLINE_MS, task: (i) => attempt(kind, client, i) });
      for (const cell of kind.cells ?? CELLS) {
        context.progress(`api: ${backend.name}: ${kind.label}: c=${cell.concurrency}, ${cell.requests} requests`);
        kind.answered?.clear();
        const stopWatchingGc = watchGc();
        const load = await runLoad({ total: cell.requests, concurrency: cell.concurrency, deadlineMs: CELL_DEADLINE_MS, task: (i) => attempt(kind, client, i) });
        rows.push(rowOf(backend, kind, cell.concurrency, cell.requests, load, stopWatchingGc()));
      }
    }
    context.progress(`api: ${backend.name}: waiting for the ${createdIds.length} created runs to park at their gates`);
    return { rows, unparked: await waitParked(client, createdIds) };
  } finally {
    client.close();
  }
}

export async function measureApi(context: BenchContext): Promise<ScenarioOutcome> {
  const rows: ApiRow[] = [];
  const notes: string[] = [];
  const unparked: string[] = [];
  for (const start of BACKENDS) {
    const unavailable = start.unavailable();
    if (unavailable) {
      rows.push({ backend: start.name, skipped: unavailable });
      continue;
    }
    context.progress(`api: starting ${start.name}`);
    let backend: ApiBackend;
    try {
      backend = await start.start();
    } catch (error) {
      rows.push({ backend: start.name, skipped: `could not start: ${(error as Error).message}` });
      continue;
    }
    try {
      const measured = await measureBackend(backend, context);
      rows.push(...measured.rows);
      unparked.push(...measured.unparked.map((problem) => `${backend.name}: ${problem}`));
    } finally {
      await backend.stop();
    }
  }

  const tableRows = rows.map((r) => {
    if ('skipped' in r) {
      notes.push(`${r.backend} skipped: ${String(r['skipped'])}`);
      return [r.backend, 'skipped (see below)', '', '', '', '', '', '', '', '', ''];
    }
    const latency = r['latencyMs'] as { p50: number; p99: number; max: number };
    const gc = r['gcPauses'] as GcPauses;
    const problems = r['problems'] as Record<string, number>;
    if (Object.keys(problems).length > 0) notes.push(`${r.backend} ${String(r['request'])} c=${String(r['concurrency'])} errors: ${describeProblems(problems)}`);
    if (r['statuses']) notes.push(`${r.backend} ${String(r['request'])} c=${String(r['concurrency'])} answered: ${Object.entries(r['statuses'] as Record<string, number>).map(([status, n]) => `${n}× ${status}`).join(', ')}`);
    if (r['stoppedByDeadline']) notes.push(`${r.backend} ${String(r['request'])} c=${String(r['concurrency'])} stopped at the ${CELL_DEADLINE_MS / 1000} s cell limit`);
    return [
      r.backend,
      String(r['request']),
      String(r['concurrency']),
      `${formatCount(r['ok'] as number)}/${formatCount(r['sent'] as number)}`,
      String(r['errors']),
      formatMs(latency.p50),
      formatMs(latency.p99),
      formatMs(latency.max),
      formatCount(r['requestsPerSecond'] as number),
      `${formatMs(gc.totalMs)} (${formatMs(gc.maxMs)})`,
      r['aim'] === null ? '' : 'p99 < 10 ms',
    ];
  });
  const table: Table = {
    title: `foundation / api: local stack latency — node ${process.version}`,
    columns: [
      { header: 'backend' },
      { header: 'request' },
      { header: 'c', align: 'right' },
      { header: 'ok/sent', align: 'right' },
      { header: 'errors', align: 'right' },
      { header: 'p50 ms', align: 'right' },
      { header: 'p99 ms', align: 'right' },
      { header: 'max ms', align: 'right' },
      { header: 'req/s', align: 'right' },
      { header: 'gc ms (max)', align: 'right' },
      { header: 'aim' },
    ],
    rows: tableRows,
    notes: [
      `embedded: ${rows.find((r) => r.backend === 'embedded' && 'store' in r)?.['store'] ?? 'dynalite'}; dynamodb-local: the stack over DynamoDB Local (Java, in memory).`,
      `c: concurrent closed-loop callers on 127.0.0.1 (node:http, keep-alive); ${WARMUP_REQUESTS} uncounted warm-up requests per row type first.`,
      'The stack, its embedded store and the load generator share this one process and event loop: figures include the client\'s own cost.',
      `POST bodies: deploymentBody() for a service of its own (${CREATES} registered first; one deployment per service at a time), parked at a manual gate after 5%; GETs read ids those POSTs created; lists ask for ${SERVICE_COUNT} of those services.`,
      'If-None-Match: the ETag of the previous read of that deployment (the plain GETs read the same ids first): 304 while it did not change, else 200 and the new tag.',
      'gc ms (max): total (longest) GC pause in this process during the cell; a p99 near the longest pause points at the collector.',
      'Percentiles are nearest-rank over successful requests only; errors are counted apart (expected: 202 for POST, 200 for GET, 304 or 200 with If-None-Match). req/s counts successes.',
      ...notes,
    ],
  };
  // A request that failed is a broken scenario, not a figure: the run fails (its table still printed).
  const failures = rows.filter((r) => !('skipped' in r) && ((r['errors'] as number) > 0 || r['stoppedByDeadline'] === true)).map((r) => `${r.backend} ${String(r['request'])} c=${String(r['concurrency'])}: ${String(r['errors'])} errors${r['stoppedByDeadline'] ? ', stopped at the deadline' : ''}`);
  return { tables: [table], results: rows, failures: [...failures, ...unparked] };
}
