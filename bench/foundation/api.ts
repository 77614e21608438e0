/** Scenario `foundation/api`: create, read and list on the local stack, over the embedded store and DynamoDB Local. */
import { deploymentBody } from '../../test/support/requests.js';
import { createKeepAliveClient, type KeepAliveClient, type Reply } from '../lib/http-client.js';
import { describeProblems, runLoad, type LoadResult, type TaskOutcome } from '../lib/load.js';
import { dynamoDbLocalUnavailable, startDynamoDbLocalBackend, startEmbeddedBackend, type ApiBackend } from '../lib/local-backends.js';
import { watchGc, type GcPauses } from '../lib/gc-watch.js';
import { roundMs, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';

import { AIMS } from './aims.js';

const CELLS = [
  { concurrency: 1, requests: 300 },
  { concurrency: 32, requests: 2000 },
] as const;
const WARMUP_REQUESTS = 50;
const SERVICE_COUNT = 20;
/** A safety bound, far above what a healthy cell takes: no cell runs longer than this. */
const CELL_DEADLINE_MS = 60_000;

interface RequestKind {
  label: string;
  expectedStatus: number;
  /** Other statuses that are a right answer too; `answered` counts each status per cell. */
  alsoAccepted?: number[];
  answered?: Map<number, number>;
  send(client: KeepAliveClient, index: number): Promise<Reply>;
  /** Extra checks on a reply with the expected status; a string names what is wrong. */
  check?(reply: Reply): string | undefined;
}

const serviceName = (index: number) => `svc-${(index % SERVICE_COUNT) + 1}`;

/** Create, then read what was created, then list: every GET finds deployments the POSTs made. */
function requestKinds(runId: string): RequestKind[] {
  const createdIds: string[] = [];
  /** The last entity tag read per deployment. */
  const tags = new Map<string, string>();
  let created = 0;
  return [
    {
      label: 'POST /v1/deployments',
      expectedStatus: 202,
      send(client) {
        // A unique execution id per request: each is a new deployment, not an idempotent replay.
        const n = created++;
        const service = serviceName(n);
        const body = deploymentBody({ service, spinnaker: { executionId: `bench-${runId}-${n}`, stageId: '1', application: service, pipeline: 'bench' } });
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
      send(client, index) {
        if (createdIds.length === 0) throw new Error('no deployment was created to read');
        return client.send('GET', `/v1/deployments/${encodeURIComponent(createdIds[index % createdIds.length]!)}`);
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
      send: (client, index) => client.send('GET', `/v1/deployments?service=${serviceName(index)}&limit=20`),
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
  { name: 'dynamodb-local', unavailable: dynamoDbLocalUnavailable, start: startDynamoDbLocalBackend },
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

async function measureBackend(backend: ApiBackend, context: BenchContext): Promise<ApiRow[]> {
  const client = createKeepAliveClient(backend.url, { authorization: `Bearer ${backend.adminToken}` });
  const rows: ApiRow[] = [];
  try {
    for (const kind of requestKinds(Date.now().toString(36))) {
      context.progress(`api: ${backend.name}: ${kind.label}: warm-up`);
      // Uncounted: JIT, connection set-up and the store's first reads happen here, not in the figures.
      await runLoad({ total: WARMUP_REQUESTS, concurrency: 1, deadlineMs: CELL_DEADLINE_MS, task: (i) => attempt(kind, client, i) });
      for (const cell of CELLS) {
        context.progress(`api: ${backend.name}: ${kind.label}: c=${cell.concurrency}, ${cell.requests} requests`);
        kind.answered?.clear();
        const stopWatchingGc = watchGc();
        const load = await runLoad({ total: cell.requests, concurrency: cell.concurrency, deadlineMs: CELL_DEADLINE_MS, task: (i) => attempt(kind, client, i) });
        rows.push(rowOf(backend, kind, cell.concurrency, cell.requests, load, stopWatchingGc()));
      }
    }
  } finally {
    client.close();
  }
  return rows;
}

export async function measureApi(context: BenchContext): Promise<ScenarioOutcome> {
  const rows: ApiRow[] = [];
  const notes: string[] = [];
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
      rows.push(...(await measureBackend(backend, context)));
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
      `POST bodies: deploymentBody() with a unique spinnaker.executionId each, over ${SERVICE_COUNT} services; GETs read ids those POSTs created.`,
      'gc ms (max): total (longest) GC pause in this process during the cell; a p99 near the longest pause points at the collector.',
      'Percentiles are nearest-rank over successful requests only; errors are counted apart (expected: 202 for POST, 200 for GET). req/s counts successes.',
      ...notes,
    ],
  };
  return { tables: [table], results: rows };
}
