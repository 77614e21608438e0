/**
 * Scenario `dataplane/reconcile`: a reconcile run of 10,000 registered services in shards
 * (usecases/reconcile-run.ts) on the embedded store, twice in a row. The first run finds and
 * repairs the HAProxy group's few services (their servers are not on the instance yet); the second
 * finds nothing: that is the no-drift figure. DynamoDB requests are counted per shard, and from
 * them and DynamoDB's documented latency the time the same run takes on DynamoDB is computed.
 * Then the one-service reconciliation `POST /v1/reconcile {service}` does, ONE_SERVICE_SAMPLES
 * times: its p99. A run that does not finish, or a service that fails, fails the scenario.
 */
import { randomUUID } from 'node:crypto';
import { createTableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores, ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { haproxyBackendName, HaproxyTrafficRouter } from '../../shared/adapters/haproxy/haproxy-router.js';
import { createJsonLogger } from '../../shared/adapters/json-logger.js';
import { randomIds, sha256Hex, systemClock } from '../../shared/adapters/system.js';
import { InternalError } from '../../shared/domain/errors.js';
import type { ProxyGroup } from '../../shared/domain/mesh.js';
import { reconcileMesh, type ReconcileDeps } from '../../shared/usecases/reconcile-mesh.js';
import { driveReconcileRun, SHARD_SIZE, startReconcileRun, type ReconcileRunDeps } from '../../shared/usecases/reconcile-run.js';
import { startEmbeddedDynamo } from '../../local/embedded-dynamo.js';
import { countCommands, countsSince, sumOf, type OperationCounts } from '../lib/dynamo-counts.js';
import { haproxyUnavailable, startBenchHaproxy, type BenchHaproxy } from '../lib/haproxy-fleet.js';
import { sized } from '../lib/size.js';
import { median, roundMs, summarize } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';
import { AIMS } from './aims.js';
import { MESH_CLUSTERS, serviceName, VERSIONS } from './mesh-fixture.js';
import { seedRegistry } from './seed.js';

const SERVICES = sized(10_000, 20);
const ONE_SERVICE_SAMPLES = sized(300, 5);
/** DynamoDB's documented latency is single-digit milliseconds per request: the top of that range. */
const DYNAMODB_REQUEST_MS = 10;
/** reconcile-mesh.ts reconciles this many services of a shard at once. */
const SERVICE_CONCURRENCY = 8;
/** Services with a split in the HAProxy group: a backend each on the one instance. */
const HAPROXY_SERVICES = sized(8, 2);
const SEED_CONCURRENCY = 8;
const RUNS = ['first (repairs the HAProxy group)', 'second (no drift)'] as const;
const HAPROXY_GROUP = 'haproxy-edge';

/**
 * What the same run costs on DynamoDB: each shard's service Queries in waves of
 * SERVICE_CONCURRENCY, its other requests one after another, each at DYNAMODB_REQUEST_MS.
 */
function dynamoDbEstimate(perShard: readonly number[]): { perShardMs: number; runSeconds: number; requestMs: number } {
  const shardMs = perShard.map((requests) => {
    const serviceQueries = Math.min(requests, SHARD_SIZE);
    const others = requests - serviceQueries;
    return (Math.ceil(serviceQueries / SERVICE_CONCURRENCY) + others) * DYNAMODB_REQUEST_MS;
  });
  const runMs = shardMs.reduce((sum, ms) => sum + ms, 0);
  return { perShardMs: roundMs(median(shardMs)), runSeconds: roundMs(runMs / 1000), requestMs: DYNAMODB_REQUEST_MS };
}

function describeOperations(counts: OperationCounts): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([operation, n]) => `${formatCount(n)} ${operation}`)
    .join(', ');
}

export async function measureReconcile(context: BenchContext): Promise<ScenarioOutcome> {
  const noHaproxy = haproxyUnavailable();
  const dynamo = await startEmbeddedDynamo({});
  const table = createTableHandle(
    { region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestTimeoutMs: 30_000 },
    `crossfade-bench-${randomUUID().slice(0, 8)}`,
  );
  let haproxy: BenchHaproxy | undefined;
  try {
    await ensureTable(table);
    const counter = countCommands(table);
    const stores = createDynamoDbStores(table);
    const haproxyServices = Array.from({ length: noHaproxy ? 0 : HAPROXY_SERVICES }, (_, i) => serviceName(i * Math.floor(SERVICES / HAPROXY_SERVICES)));
    context.progress(`reconcile: seeding ${formatCount(SERVICES)} services (${VERSIONS.length} versions each) through the registry adapter, ${SEED_CONCURRENCY} at a time`);
    const seed = await seedRegistry(stores.registry, {
      services: SERVICES,
      concurrency: SEED_CONCURRENCY,
      splitsOf: (index) =>
        haproxyServices.includes(serviceName(index)) ? [{ proxyGroup: HAPROXY_GROUP, weights: { v1: 90, v2: 10 }, revision: 1, updatedAt: '2026-01-01T00:00:00.000Z' }] : [],
      progress: context.progress,
    });

    let proxyGroups: ProxyGroup[] = [];
    if (!noHaproxy) {
      // Backends declared, servers not: the first run finds every registered endpoint missing and adds it.
      haproxy = await startBenchHaproxy('bench-reconcile', haproxyServices.map((service) => ({ name: haproxyBackendName(service), servers: [] })));
      proxyGroups = [{ name: HAPROXY_GROUP, kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [haproxy.proxy] }];
    }
    const deps: ReconcileDeps = {
      registry: stores.registry,
      snapshots: stores.snapshots,
      parts: stores.parts,
      hash: sha256Hex,
      audit: stores.audit,
      locks: stores.locks,
      clusterProvider: {
        discoverEndpoints: () => Promise.reject(new InternalError('the bench registers explicit endpoints only: nothing is discovered')),
      },
      clock: systemClock,
      logger: createJsonLogger({ level: 'silent' }),
      clusters: MESH_CLUSTERS,
      proxyGroups,
      routers: { haproxy: new HaproxyTrafficRouter() },
    };

    const runDeps: ReconcileRunDeps = { ...deps, reconcileRuns: stores.reconcileRuns, ids: randomIds };
    const failures: string[] = [];
    const results: Record<string, unknown>[] = [];
    const rows: string[][] = [];
    for (const run of RUNS) {
      context.progress(`reconcile: ${run} run over ${formatCount(SERVICES)} services in shards of ${SHARD_SIZE}`);
      const before = counter.counts();
      const elapsed = startTimer();
      // keepGoing is asked before each shard: the counts between two asks are one shard's requests.
      const marks: OperationCounts[] = [];
      const { run: started } = await startReconcileRun(runDeps, null);
      const driven = await driveReconcileRun(runDeps, started.id, { holder: 'bench', keepGoing: () => (marks.push(counter.counts()), true) });
      const ms = elapsed();
      marks.push(counter.counts());
      const perShard = marks.slice(1).map((after, i) => sumOf(countsSince(marks[i]!, after)));
      const operations = countsSince(before, counter.counts());
      const record = driven.run;
      if (driven.outcome !== 'finished' || !record) failures.push(`${run}: the run ended ${driven.outcome}, not finished`);
      if (record && record.errors > 0) failures.push(`${run}: ${record.errors} services failed: ${record.failures.map((f) => `${f.service}: ${f.reason}`).join('; ')}`);
      if (record && record.servicesSeen !== SERVICES) failures.push(`${run}: ${record.servicesSeen} services seen, not ${SERVICES}`);
      const estimate = dynamoDbEstimate(perShard);
      const result = {
        run,
        services: record?.servicesSeen ?? 0,
        shardSize: SHARD_SIZE,
        shards: record?.shardsDone ?? 0,
        requestsPerShard: { median: median(perShard), max: Math.max(...perShard), all: perShard },
        proxyGroups: proxyGroups.map((g) => g.name),
        haproxyServices: haproxyServices.length,
        totalMs: roundMs(ms),
        perShardMs: roundMs(ms / Math.max(1, record?.shardsDone ?? 1)),
        drifted: record?.drifted ?? 0,
        repairs: record?.repairs ?? 0,
        errors: record?.errors ?? 0,
        dynamoDbRequests: operations,
        onDynamoDb: estimate,
        aim: run === RUNS[1] ? AIMS.reconcile : null,
      };
      results.push(result);
      rows.push([
        run,
        formatCount(result.services),
        `${result.shards} × ${SHARD_SIZE}`,
        formatMs(ms),
        `${result.drifted} / ${result.repairs} / ${result.errors}`,
        `${formatCount(result.requestsPerShard.median)} (max ${formatCount(result.requestsPerShard.max)})`,
        describeOperations(operations),
        `${formatMs(estimate.perShardMs)} / ${formatMs(estimate.runSeconds * 1000)}`,
      ]);
    }

    context.progress(`reconcile: one service at a time, ${ONE_SERVICE_SAMPLES} requests`);
    const oneServiceMs: number[] = [];
    const oneServiceBefore = counter.counts();
    for (let i = 0; i < ONE_SERVICE_SAMPLES; i++) {
      // Every tenth one has a split in the HAProxy group: verified against the instance.
      const service = i % 10 === 0 && haproxyServices.length > 0 ? haproxyServices[i % haproxyServices.length]! : serviceName((i * 7919) % SERVICES);
      const elapsed = startTimer();
      const report = await reconcileMesh(deps, { service });
      oneServiceMs.push(elapsed());
      const failed = report.services.flatMap((r) => r.findings.filter((f) => f.kind === 'failed'));
      if (failed.length > 0) failures.push(`one service ${service}: ${JSON.stringify(failed)}`);
    }
    const oneService = summarize(oneServiceMs);
    const oneServiceRequests = sumOf(countsSince(oneServiceBefore, counter.counts())) / ONE_SERVICE_SAMPLES;
    results.push({ run: 'one service', samples: ONE_SERVICE_SAMPLES, ms: oneService, dynamoDbRequestsPerRequest: oneServiceRequests, aim: AIMS.oneServiceReconcile });
    results.push({ run: 'seed', services: SERVICES, writes: seed.writes, elapsedMs: Math.round(seed.elapsedMs), writesPerSecond: Math.round((seed.writes / seed.elapsedMs) * 1000) });

    const printed: Table = {
      title: `dataplane / reconcile: a reconcile run over ${formatCount(SERVICES)} registered services in shards of ${SHARD_SIZE}, embedded store — node ${process.version}`,
      columns: [
        { header: 'run' },
        { header: 'services', align: 'right' },
        { header: 'shards', align: 'right' },
        { header: 'total ms', align: 'right' },
        { header: 'drifted / repaired / failed', align: 'right' },
        { header: 'requests / shard', align: 'right' },
        { header: 'DynamoDB requests' },
        { header: 'on DynamoDB: ms / shard, ms / run', align: 'right' },
      ],
      rows,
      notes: [
        `Registry: the embedded store (startEmbeddedDynamo, dynalite in memory, in this process) through createDynamoDbStores; ${formatCount(SERVICES)} services × ${VERSIONS.length} versions, each with explicit endpoints in ${MESH_CLUSTERS.length} clusters (no discoveredFrom: no cluster API is called).`,
        noHaproxy
          ? `proxyGroups = [] (${noHaproxy}): what is measured is the registry walk alone.`
          : `proxyGroups = [${HAPROXY_GROUP}]: one local HAProxy (127.0.0.1) with a backend for ${HAPROXY_SERVICES} of the services, which alone have a split in that group (90/10); the first run finds those backends empty and adds their servers (applySplit + verifySplit); the second finds nothing.`,
        `A shard: one or two Queries on gsi2 for its ${SHARD_SIZE} names, one Query per service (its whole mesh state, ${8} at a time), and one conditional PutItem recording the cursor; the first shard also claims the run's lease, the run's start claims the one-at-a-time slot and creates the run, the last frees the slot.`,
        `On DynamoDB (computed, not measured): every request taken at ${DYNAMODB_REQUEST_MS} ms (DynamoDB documents single-digit-millisecond latency; ${DYNAMODB_REQUEST_MS} ms is its top), the service Queries ${SERVICE_CONCURRENCY} at a time, every other request one after another. The schedule runs every 5 minutes (300 s) and a Lambda invocation begins shards for up to 240 s, then continues in a fresh one.`,
        `One service (POST /v1/reconcile {service}, the use case without HTTP): ${ONE_SERVICE_SAMPLES} requests, every tenth one a service with a split in the HAProxy group: p50 ${formatMs(oneService.p50)} ms, p99 ${formatMs(oneService.p99)} ms, max ${formatMs(oneService.max)} ms; ${oneServiceRequests.toFixed(1)} DynamoDB requests each. Aim: ${AIMS.oneServiceReconcile}.`,
        `Seeding (not timed above): ${formatCount(seed.writes)} conditional puts through the registry adapter, ${SEED_CONCURRENCY} at a time, in ${formatMs(seed.elapsedMs / 1000)} s.`,
        'The registry, the SDK client and the run share this one process and its 2 cores: dynalite\'s own CPU time is in every figure.',
      ],
    };
    return { tables: [printed], results, ...(failures.length > 0 ? { failures } : {}) };
  } finally {
    await haproxy?.stop();
    table.documents.destroy();
    await dynamo.stop();
  }
}
