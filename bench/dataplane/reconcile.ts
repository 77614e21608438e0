/**
 * Scenario `dataplane/reconcile`: reconcileMesh over 10,000 registered services on the embedded
 * store, twice in a row. The first run finds and repairs the HAProxy group's few services (their
 * servers are not on the instance yet); the second finds nothing: that is the no-drift figure.
 */
import { randomUUID } from 'node:crypto';
import { createTableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores, ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { haproxyBackendName, HaproxyTrafficRouter } from '../../shared/adapters/haproxy/haproxy-router.js';
import { createJsonLogger } from '../../shared/adapters/json-logger.js';
import { sha256Hex, systemClock } from '../../shared/adapters/system.js';
import { InternalError } from '../../shared/domain/errors.js';
import type { ProxyGroup } from '../../shared/domain/mesh.js';
import { reconcileMesh, type ReconcileDeps, type ReconcileReport } from '../../shared/usecases/reconcile-mesh.js';
import { startEmbeddedDynamo } from '../../local/embedded-dynamo.js';
import { countCommands, countsSince, sumOf, type OperationCounts } from '../lib/dynamo-counts.js';
import { haproxyUnavailable, startBenchHaproxy, type BenchHaproxy } from '../lib/haproxy-fleet.js';
import { roundMs } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';
import { AIMS } from './aims.js';
import { MESH_CLUSTERS, serviceName, VERSIONS } from './mesh-fixture.js';
import { seedRegistry } from './seed.js';

const SERVICES = 10_000;
/** Services with a split in the HAProxy group: a backend each on the one instance. */
const HAPROXY_SERVICES = 8;
const SEED_CONCURRENCY = 8;
const RUNS = ['first (repairs the HAProxy group)', 'second (no drift)'] as const;
const HAPROXY_GROUP = 'haproxy-edge';

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

    const listStarted = startTimer();
    const listed = await stores.registry.listServices();
    const listMs = listStarted();

    const results: Record<string, unknown>[] = [];
    const rows: string[][] = [];
    for (const run of RUNS) {
      context.progress(`reconcile: ${run} run over ${formatCount(listed.length)} services`);
      const before = counter.counts();
      const elapsed = startTimer();
      const report: ReconcileReport = await reconcileMesh(deps, {});
      const ms = elapsed();
      const operations = countsSince(before, counter.counts());
      const result = {
        run,
        services: report.summary.services,
        proxyGroups: proxyGroups.map((g) => g.name),
        haproxyServices: haproxyServices.length,
        totalMs: roundMs(ms),
        perServiceMs: roundMs(ms / report.summary.services),
        summary: report.summary,
        findings: report.services.reduce((sum, s) => sum + s.findings.length, 0),
        actions: report.services.reduce((sum, s) => sum + s.actions.length, 0),
        dynamoDbRequests: operations,
        aim: run === RUNS[1] ? AIMS.reconcile : null,
      };
      results.push(result);
      rows.push([
        run,
        formatCount(result.services),
        formatMs(ms),
        formatMs(result.perServiceMs),
        `${result.summary.drifted} / ${result.summary.repaired} / ${result.summary.failed}`,
        `${result.findings} / ${result.actions}`,
        describeOperations(operations),
        (sumOf(operations) / result.services).toFixed(2),
      ]);
    }
    results.push({ run: 'seed', services: SERVICES, writes: seed.writes, elapsedMs: Math.round(seed.elapsedMs), writesPerSecond: Math.round((seed.writes / seed.elapsedMs) * 1000), listServicesMs: roundMs(listMs) });

    const printed: Table = {
      title: `dataplane / reconcile: reconcileMesh over ${formatCount(SERVICES)} registered services, embedded store — node ${process.version}`,
      columns: [
        { header: 'run' },
        { header: 'services', align: 'right' },
        { header: 'total ms', align: 'right' },
        { header: 'ms / service', align: 'right' },
        { header: 'drifted / repaired / failed', align: 'right' },
        { header: 'findings / actions', align: 'right' },
        { header: 'DynamoDB requests' },
        { header: 'requests / service', align: 'right' },
      ],
      rows,
      notes: [
        `Registry: the embedded store (startEmbeddedDynamo, dynalite in memory, in this process) through createDynamoDbStores; ${formatCount(SERVICES)} services × ${VERSIONS.length} versions, each with explicit endpoints in ${MESH_CLUSTERS.length} clusters (no discoveredFrom: no cluster API is called, so step 1 of reconciliation reads nothing but the registry).`,
        noHaproxy
          ? `proxyGroups = [] (${noHaproxy}): what is measured is the registry walk alone — listServices, then one getService per service.`
          : `proxyGroups = [${HAPROXY_GROUP}]: one local HAProxy (127.0.0.1) with a backend for ${HAPROXY_SERVICES} of the services, which alone have a split in that group (90/10, 24 servers each); the other ${formatCount(SERVICES - HAPROXY_SERVICES)} services have no split there, so for them reconciliation is listServices' share plus one getService. The first run finds those ${HAPROXY_SERVICES} backends empty and adds their servers (applySplit + verifySplit); the second run finds nothing: the no-drift figure.`,
        'Services are reconciled one after another, as reconcileMesh does; total: wall time of reconcileMesh(deps, {}), listServices included.',
        'DynamoDB requests: counted by a middleware on the bench\'s own table handle, one per command (SDK retries not counted again).',
        `Seeding (not timed above): ${formatCount(seed.writes)} conditional puts through the registry adapter, ${SEED_CONCURRENCY} at a time, in ${formatMs(seed.elapsedMs / 1000)} s (${formatCount((seed.writes / seed.elapsedMs) * 1000)} writes/s); listServices alone: ${formatMs(listMs)} ms.`,
        'The registry, the SDK client and reconcileMesh share this one process and its 2 cores: dynalite\'s own CPU time is in every figure.',
      ],
    };
    return { tables: [printed], results };
  } finally {
    await haproxy?.stop();
    table.documents.destroy();
    await dynamo.stop();
  }
}
