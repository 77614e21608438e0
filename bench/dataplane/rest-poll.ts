/**
 * Scenario `dataplane/rest-poll`: Envoy's REST discovery poll (`POST /v3/discovery:<type>`) on the
 * local stack over 10,000 published services: a poll whose version is current (304) and one that
 * is not (200 with every resource of the type), per type, with the DynamoDB requests each makes.
 *
 * The route and the publish use case were written alongside this bench, so both are found at run
 * time: without shared/http/routes/discovery.ts the scenario prints a "skipped" row instead of
 * failing, and the publish use case is imported by path rather than statically.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores, ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { createJsonLogger } from '../../shared/adapters/json-logger.js';
import { systemClock } from '../../shared/adapters/system.js';
import type { ProxyGroup } from '../../shared/domain/mesh.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { MeshRegistry } from '../../shared/ports/mesh-registry.js';
import { startLocalStack } from '../../local/stack.js';
import { countsSince, READ_OPERATIONS, startCountedDynalite, sumOf, type OperationCounts } from '../lib/dynamo-counts.js';
import { createKeepAliveClient, type KeepAliveClient } from '../lib/http-client.js';
import { describeProblems, runLoad, type LoadResult, type TaskOutcome } from '../lib/load.js';
import { sized } from '../lib/size.js';
import { roundMs, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';
import { AIMS, formatSize } from './aims.js';
import { CONFIG_CLUSTERS, ENVOY_GROUPS, splitFor, VERSIONS } from './mesh-fixture.js';
import { seedRegistry } from './seed.js';

const SERVICES = sized(10_000, 20);
const SEED_CONCURRENCY = 8;
const DISCOVERY_ROUTE_FILE = fileURLToPath(new URL('../../shared/http/routes/discovery.ts', import.meta.url));
const PUBLISH_MODULE = new URL('../../shared/usecases/publish-snapshots.ts', import.meta.url).href;
/** The group Envoys poll: the default REST transport (no `xds` key in its config). */
const GROUP = ENVOY_GROUPS[0]!;
const NODE_ID = GROUP.proxies[0]!.nodeId;
const KINDS = ['clusters', 'endpoints', 'listeners', 'routes'] as const;
const TYPE_URLS: Record<(typeof KINDS)[number], string> = {
  clusters: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listeners: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routes: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
};
const CURRENT = sized({ warmup: 20, polls: 300 }, { warmup: 1, polls: 3 });
const NOT_CURRENT = sized({ warmup: 1, polls: 10 }, { warmup: 1, polls: 2 });
/** A not-current cell stops sending after this many failed polls: a failure that repeats is a finding, not a sample. */
const NOT_CURRENT_MAX_FAILURES = 2;
const CELL_DEADLINE_MS = 30_000;

/** What the bench needs of shared/usecases/publish-snapshots.ts, restated: the module may not exist when this compiles. */
interface PublishModule {
  publishSnapshots(
    deps: { registry: MeshRegistry; snapshots: unknown; parts: unknown; proxyGroups: readonly ProxyGroup[]; clock: Clock; logger: Logger; hash: (text: string) => string },
    request?: { groups?: readonly string[] },
  ): Promise<{ groups: { group: string; outcome: string; reason?: string; partsWritten?: number; versions?: Record<string, string> }[]; withoutEndpoints: string[] }>;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function skipped(reason: string): ScenarioOutcome {
  const table: Table = { title: 'dataplane / rest-poll', columns: [{ header: 'poll' }, { header: 'result' }], rows: [['—', `skipped: ${reason}`]] };
  return { tables: [table], results: [{ skipped: reason }] };
}

interface Cell {
  kind: (typeof KINDS)[number];
  current: boolean;
  load: LoadResult;
  operations: OperationCounts;
  responseBytes: number;
}

export async function measureRestPoll(context: BenchContext): Promise<ScenarioOutcome> {
  if (!existsSync(DISCOVERY_ROUTE_FILE)) return skipped('REST discovery route not built yet (no shared/http/routes/discovery.ts)');
  let publishModule: PublishModule;
  try {
    publishModule = (await import(PUBLISH_MODULE)) as PublishModule;
    if (typeof publishModule.publishSnapshots !== 'function') throw new Error('it exports no publishSnapshots');
  } catch (error) {
    return skipped(`the publish use case (shared/usecases/publish-snapshots.ts) cannot be used: ${(error as Error).message}`);
  }

  const dynamo = await startCountedDynalite();
  const dataDir = await mkdtemp(join(tmpdir(), 'crossfade-bench-xds-'));
  const tableName = `crossfade-bench-${randomUUID().slice(0, 8)}`;
  const proxyToken = randomBytes(20).toString('hex');
  const table = createTableHandle({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestTimeoutMs: 30_000 }, tableName);
  let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
  let client: KeepAliveClient | undefined;
  try {
    const configPath = join(dataDir, 'crossfade.json');
    await writeFile(
      configPath,
      JSON.stringify({
        clusters: CONFIG_CLUSTERS,
        proxyGroups: [{ name: GROUP.name, kind: 'envoy', cloud: GROUP.cloud, region: GROUP.region, proxies: GROUP.proxies }],
        tokens: [{ id: 'bench-envoy', sha256: sha256(proxyToken), scopes: [`xds:${GROUP.name}`] }],
      }),
    );
    const env: Record<string, string | undefined> = {
      ...process.env,
      CROSSFADE_LOG_LEVEL: 'silent',
      CROSSFADE_CONFIG: configPath,
      CROSSFADE_ADMIN_TOKEN: randomBytes(20).toString('hex'),
      CROSSFADE_DYNAMODB_ENDPOINT: dynamo.endpoint,
      CROSSFADE_TABLE: tableName,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    };
    await ensureTable(table);
    stack = await startLocalStack({ env, dataDir, port: 0 });

    const stores = createDynamoDbStores(table);
    context.progress(`rest-poll: seeding ${formatCount(SERVICES)} services (${VERSIONS.length} versions, a split in ${GROUP.name}) through the registry adapter`);
    const seed = await seedRegistry(stores.registry, {
      services: SERVICES,
      concurrency: SEED_CONCURRENCY,
      splitsOf: () => [{ proxyGroup: GROUP.name, weights: splitFor(GROUP), revision: 1, updatedAt: '2026-01-01T00:00:00.000Z' }],
      progress: context.progress,
    });

    context.progress(`rest-poll: publishing ${GROUP.name}'s snapshot`);
    const beforePublish = dynamo.counts();
    const publishElapsed = startTimer();
    const publication = await publishModule.publishSnapshots({
      registry: stores.registry,
      snapshots: (stores as unknown as Record<string, unknown>)['snapshots'],
      parts: (stores as unknown as Record<string, unknown>)['parts'],
      proxyGroups: [GROUP],
      clock: systemClock,
      logger: createJsonLogger({ level: 'silent' }),
      hash: sha256,
    });
    const publishMs = publishElapsed();
    const publishOperations = countsSince(beforePublish, dynamo.counts());
    const outcome = publication.groups[0];
    if (outcome?.outcome !== 'published') throw new Error(`publishing ${GROUP.name} did not publish: ${JSON.stringify(outcome)}`);

    client = createKeepAliveClient(stack.url, {});
    const poll = (kind: (typeof KINDS)[number], version: string) =>
      client!.send(
        'POST',
        `/v3/discovery:${kind}`,
        JSON.stringify({ version_info: version, resource_names: [], type_url: TYPE_URLS[kind], node: { id: NODE_ID, cluster: GROUP.name, metadata: { token: proxyToken } } }),
      );

    const cells: Cell[] = [];
    for (const kind of KINDS) {
      // Current polls report the published version (from the publish report), so they are measured even when a 200 fails.
      const version = outcome.versions?.[TYPE_URLS[kind]];
      if (version === undefined) throw new Error(`the publish report names no ${kind} version: ${JSON.stringify(outcome)}`);

      context.progress(`rest-poll: ${kind}: up to ${NOT_CURRENT.polls} polls that are not current`);
      let responseBytes = 0;
      const notCurrent = async (): Promise<TaskOutcome> => {
        // The first poll of a fresh Envoy: no version yet.
        const reply = await poll(kind, '');
        if (reply.status !== 200) return { ok: false, problem: `${reply.status} ${errorCode(reply.text)}` };
        responseBytes = Buffer.byteLength(reply.text);
        const answered = (JSON.parse(reply.text) as { version_info?: string }).version_info;
        return answered === version ? { ok: true } : { ok: false, problem: `200 with version ${answered}, published ${version}` };
      };
      await runBounded(NOT_CURRENT.warmup, notCurrent);
      let before = dynamo.counts();
      let load = await runBounded(NOT_CURRENT.polls, notCurrent);
      cells.push({ kind, current: false, load, operations: countsSince(before, dynamo.counts()), responseBytes });

      context.progress(`rest-poll: ${kind}: ${CURRENT.polls} current polls`);
      const current = async (): Promise<TaskOutcome> => {
        const reply = await poll(kind, version);
        return reply.status === 304 ? { ok: true } : { ok: false, problem: `${reply.status} ${errorCode(reply.text)}` };
      };
      await runLoad({ total: CURRENT.warmup, concurrency: 1, deadlineMs: CELL_DEADLINE_MS, task: current });
      before = dynamo.counts();
      load = await runLoad({ total: CURRENT.polls, concurrency: 1, deadlineMs: CELL_DEADLINE_MS, task: current });
      cells.push({ kind, current: true, load, operations: countsSince(before, dynamo.counts()), responseBytes: 0 });
    }

    const results: Record<string, unknown>[] = cells.map((cell) => {
      const latency = summarize(cell.load.latenciesMs);
      const perPoll = (n: number) => Math.round((n / Math.max(1, cell.load.sent)) * 100) / 100;
      return {
        type: cell.kind,
        poll: cell.current ? 'current (304)' : 'not current (200)',
        services: SERVICES,
        sent: cell.load.sent,
        ok: cell.load.ok,
        problems: cell.load.problems,
        latencyMs: { p50: roundMs(latency.p50), p99: roundMs(latency.p99), max: roundMs(latency.max) },
        responseBytes: cell.responseBytes,
        dynamoDbRequests: cell.operations,
        readsPerPoll: perPoll(sumOf(cell.operations, READ_OPERATIONS)),
        requestsPerPoll: perPoll(sumOf(cell.operations)),
        aim: cell.current ? AIMS.currentPoll : null,
      };
    });
    results.push({
      poll: 'publish',
      services: SERVICES,
      group: GROUP.name,
      publishMs: roundMs(publishMs),
      outcome,
      dynamoDbRequests: publishOperations,
      seed: { writes: seed.writes, elapsedMs: Math.round(seed.elapsedMs) },
    });

    const rows = results.slice(0, cells.length).map((r, index) => {
      const cell = cells[index]!;
      const latency = r['latencyMs'] as { p50: number; p99: number; max: number };
      return [
        cell.kind,
        String(r['poll']),
        `${cell.load.ok}/${cell.load.sent}`,
        formatMs(latency.p50),
        formatMs(latency.p99),
        formatMs(latency.max),
        cell.current || cell.load.ok === 0 ? '—' : formatSize(cell.responseBytes),
        String(r['readsPerPoll']),
        describePerPoll(cell.operations, cell.load.sent),
        cell.current ? 'p99 < 5 ms, 1 read' : '',
      ];
    });
    const problems = cells.filter((c) => c.load.errors > 0).map((c) => `${c.kind} ${c.current ? 'current' : 'not current'}: ${describeProblems(c.load.problems)}`);
    const printed: Table = {
      title: `dataplane / rest-poll: POST /v3/discovery:<type> on the local stack, ${formatCount(SERVICES)} services published — node ${process.version}`,
      columns: [
        { header: 'type' },
        { header: 'poll' },
        { header: 'ok/sent', align: 'right' },
        { header: 'p50 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
        { header: 'max ms', align: 'right' },
        { header: 'response', align: 'right' },
        { header: 'reads / poll', align: 'right' },
        { header: 'DynamoDB requests / poll' },
        { header: 'aim' },
      ],
      rows,
      notes: [
        `Local stack (local/stack.ts) over the embedded store: dynalite in memory in this process, started as local/embedded-dynamo.ts does and named to the stack by CROSSFADE_DYNAMODB_ENDPOINT, so the bench can count what reaches it.`,
        `Registry: ${formatCount(SERVICES)} services × ${VERSIONS.length} versions (explicit endpoints in 2 clouds) and a split in ${GROUP.name} (REST transport), written through the registry adapter (${formatCount(seed.writes)} puts, ${formatMs(seed.elapsedMs / 1000)} s, not timed); then publishSnapshots for that group: ${formatMs(publishMs / 1000)} s, ${describeOperations(publishOperations)}.`,
        `One node (${NODE_ID}, token in node.metadata.token), resource_names empty (every resource), one poll at a time over keep-alive node:http. Not current: version_info '' (a fresh Envoy), ${NOT_CURRENT.polls} polls after ${NOT_CURRENT.warmup} uncounted, stopped after ${NOT_CURRENT_MAX_FAILURES} failures; current: the version publishSnapshots reported for the type, ${CURRENT.polls} polls after ${CURRENT.warmup} uncounted.`,
        'DynamoDB requests: every HTTP request dynalite received during the cell, by X-Amz-Target operation, divided by polls sent; reads / poll counts GetItem, BatchGetItem, Query and Scan. A current poll\'s UpdateItem is the acknowledgement record, a conditional write refused when the version is unchanged.',
        'Percentiles are nearest-rank over successful polls. The stack, its store and the client share this process: the figures include the client\'s JSON parse of 200 bodies.',
        ...problems,
      ],
    };
    // A poll that failed is a broken scenario, not a figure: the run fails (its table still printed).
    const failures = cells.filter((c) => c.load.errors > 0 || c.load.stoppedByDeadline).map((c) => `${c.kind} ${c.current ? 'current' : 'not current'}: ${describeProblems(c.load.problems) || 'stopped at the deadline'}`);
    return { tables: [printed], results, failures };
  } finally {
    client?.close();
    await stack?.stop();
    table.documents.destroy();
    await dynamo.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** One poll at a time, stopping after NOT_CURRENT_MAX_FAILURES failures or at the cell deadline. */
async function runBounded(total: number, task: () => Promise<TaskOutcome>): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, ok: 0, errors: 0, problems: {}, latenciesMs: [], elapsedMs: 0, stoppedByDeadline: false };
  const elapsed = startTimer();
  for (let i = 0; i < total && result.errors < NOT_CURRENT_MAX_FAILURES; i++) {
    if (elapsed() > CELL_DEADLINE_MS) {
      result.stoppedByDeadline = true;
      break;
    }
    result.sent++;
    const pollElapsed = startTimer();
    const outcome = await task().catch((error: Error): TaskOutcome => ({ ok: false, problem: `${error.name}: ${error.message}` }));
    if (outcome.ok) {
      result.ok++;
      result.latenciesMs.push(pollElapsed());
    } else {
      result.errors++;
      result.problems[outcome.problem] = (result.problems[outcome.problem] ?? 0) + 1;
    }
  }
  result.elapsedMs = elapsed();
  return result;
}

/** `429 THROTTLED: DynamoDB table …`: the error body's code and the start of its message. */
function errorCode(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (error?.code) return `${error.code}: ${error.message?.slice(0, 160) ?? ''}`;
  } catch {
    // not our JSON error body
  }
  return text.slice(0, 120);
}

function describeOperations(counts: OperationCounts): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'no DynamoDB requests' : entries.map(([operation, n]) => `${formatCount(n)} ${operation}`).join(', ');
}

function describePerPoll(counts: OperationCounts, polls: number): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return 'none';
  return entries.map(([operation, n]) => `${(n / Math.max(1, polls)).toFixed(2).replace(/\.00$/, '')} ${operation}`).join(', ');
}
