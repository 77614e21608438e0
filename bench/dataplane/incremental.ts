/**
 * Scenario `dataplane/incremental`: incremental publishing (docs/dataplane.md "Incremental
 * publishing") at 100, 1,000 and 10,000 registered services on the embedded store, 2 Envoy groups
 * (one REST, one ADS):
 * - a traffic step: the split written for both groups, then each group's applySplit through the
 *   Envoy router at once, as the canary's programProxies does (one coalesced publish of that
 *   service for both groups); time and DynamoDB requests per step;
 * - one service's endpoints moved, then a behind Envoy polling REST EDS the way Envoy does (one
 *   subscription per cluster, each naming its cluster, each at the version it had): bytes it
 *   receives, 200s and 304s, through serveDiscovery on the same store.
 * `CROSSFADE_BENCH_INCREMENTAL_SIZES=100,1000` measures other sizes.
 */
import { randomUUID } from 'node:crypto';
import { createTableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores, ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { createJsonLogger } from '../../shared/adapters/json-logger.js';
import { sha256Hex, systemClock } from '../../shared/adapters/system.js';
import type { Split } from '../../shared/domain/mesh.js';
import { XdsType } from '../../shared/engine/envoy/snapshot.js';
import { coalescingPublisher } from '../../shared/usecases/coalescing-publisher.js';
import { EnvoyTrafficRouter } from '../../shared/usecases/envoy-router.js';
import { publishSnapshots } from '../../shared/usecases/publish-snapshots.js';
import { serviceBackend } from '../../shared/usecases/service-backend.js';
import { serveDiscovery } from '../../shared/usecases/serve-discovery.js';
import type { XdsDeps } from '../../shared/usecases/xds-deps.js';
import { startEmbeddedDynamo } from '../../local/embedded-dynamo.js';
import { countCommands, countsSince, sumOf, type OperationCounts } from '../lib/dynamo-counts.js';
import { median, roundMs } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';
import { formatSize } from './aims.js';
import { registeredVersion, serviceName, VERSIONS, type EnvoyGroup } from './mesh-fixture.js';
import { seedRegistry } from './seed.js';

const SIZES = (process.env['CROSSFADE_BENCH_INCREMENTAL_SIZES'] ?? '100,1000,10000').split(',').map(Number);
const STEPS = [
  { v1: 90, v2: 10 },
  { v1: 75, v2: 25 },
  { v1: 50, v2: 50 },
  { v1: 25, v2: 75 },
  { v1: 0, v2: 100 },
] as const satisfies readonly Split[];
const GROUPS: readonly EnvoyGroup[] = [
  { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [], xds: { api: 'rest', clusterName: 'crossfade_xds', refreshDelaySeconds: 5, requestTimeoutSeconds: 5 } },
  { name: 'grpc-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [], xds: { api: 'ads' } },
];
const REST_GROUP = GROUPS[0]!;
const SEED_CONCURRENCY = 8;

function describeOperations(counts: OperationCounts): string {
  return Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([operation, n]) => `${n} ${operation}`)
    .join(', ');
}

export async function measureIncremental(context: BenchContext): Promise<ScenarioOutcome> {
  const results: Record<string, unknown>[] = [];
  const stepRows: string[][] = [];
  const edsRows: string[][] = [];
  for (const size of SIZES) {
    const measured = await measureSize(context, size);
    results.push(measured.step, measured.eds);
    const step = measured.step as { medianMs: number; maxMs: number; requestsPerStep: OperationCounts; wholePublishMs: number };
    stepRows.push([formatCount(size), formatMs(step.medianMs), formatMs(step.maxMs), describeOperations(step.requestsPerStep), String(sumOf(step.requestsPerStep)), formatMs(step.wholePublishMs)]);
    const eds = measured.eds as { subscriptions: number; answered200: number; answered304: number; bytes: number; ms: number };
    edsRows.push([formatCount(size), formatCount(eds.subscriptions), formatCount(eds.answered200), formatCount(eds.answered304), formatSize(eds.bytes), formatMs(eds.ms)]);
  }
  const tables: Table[] = [
    {
      title: `dataplane / incremental: one traffic step, 2 Envoy groups (REST + ADS), embedded store — node ${process.version}`,
      columns: [{ header: 'services', align: 'right' }, { header: 'ms / step (median)', align: 'right' }, { header: 'max ms', align: 'right' }, { header: 'DynamoDB requests / step' }, { header: 'total', align: 'right' }, { header: 'whole publish ms', align: 'right' }],
      rows: stepRows,
      notes: [
        `A step: putSplit for both groups, then both groups' applySplit at once through the Envoy router (usecases/envoy-router.ts), one coalesced publish of <the service>, ${STEPS.length} steps of one service (${STEPS.map((s) => `${s.v1}/${s.v2}`).join(', ')}); the median and max of their wall times, and the requests of the last one (each step makes the same).`,
        'Aim (issue 11): ≤ 50 ms per step at every size, and the same DynamoDB requests at every size.',
        `Registry: ${VERSIONS.length} versions per service, 3 endpoints in each of 2 clusters per version; seeded through the registry adapter, not timed. Whole publish: the first publishSnapshots of the whole registry (every part written), for reference.`,
        'The embedded store, the SDK and the publisher share this process and its 2 cores.',
      ],
    },
    {
      title: 'dataplane / incremental: a behind Envoy over REST EDS after one service changed',
      columns: [{ header: 'services', align: 'right' }, { header: 'EDS subscriptions', align: 'right' }, { header: '200', align: 'right' }, { header: '304', align: 'right' }, { header: 'bytes received', align: 'right' }, { header: 'ms, all polls', align: 'right' }],
      rows: edsRows,
      notes: [
        `One service's v2 endpoints moved and published; then every EDS subscription of a node of ${REST_GROUP.name} (one per cluster, each naming its cluster, as Envoy polls over REST) polls once at the version it had been answered before the change, through serveDiscovery. Bytes: the JSON of every 200 body.`,
        'Aim (issue 11): ≤ 64 KiB at 10,000 services (the whole type was 26 MiB before).',
      ],
    },
  ];
  return { tables, results };
}

async function measureSize(context: BenchContext, size: number): Promise<{ step: Record<string, unknown>; eds: Record<string, unknown> }> {
  const dynamo = await startEmbeddedDynamo({});
  const table = createTableHandle({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestTimeoutMs: 60_000 }, `crossfade-bench-${randomUUID().slice(0, 8)}`);
  try {
    await ensureTable(table);
    const counter = countCommands(table);
    const stores = createDynamoDbStores(table);
    context.progress(`incremental: seeding ${formatCount(size)} services`);
    await seedRegistry(stores.registry, {
      services: size,
      concurrency: SEED_CONCURRENCY,
      splitsOf: () => GROUPS.map((g) => ({ proxyGroup: g.name, weights: { v1: 100, v2: 0 }, revision: 1, updatedAt: '2026-01-01T00:00:00.000Z' })),
      progress: context.progress,
    });
    const deps: XdsDeps = { registry: stores.registry, snapshots: stores.snapshots, parts: stores.parts, proxyGroups: GROUPS, clock: systemClock, logger: createJsonLogger({ level: 'silent' }), hash: sha256Hex };
    context.progress(`incremental: whole publish of ${formatCount(size)} services`);
    const whole = startTimer();
    await publishSnapshots(deps);
    const wholePublishMs = whole();

    const service = serviceName(Math.floor(size / 2));
    const router = new EnvoyTrafficRouter({ ...deps, publish: coalescingPublisher(deps) });
    // What the canary's split write read back before it programs the proxies (traffic.ts writeSplits); the router validates against it.
    const backend = serviceBackend((await stores.registry.getService(service))!);
    const stepMs: number[] = [];
    let requestsPerStep: OperationCounts = {};
    for (const [i, weights] of STEPS.entries()) {
      const headsBefore = await Promise.all(GROUPS.map((group) => stores.parts.head(group.name)));
      const counted = counter.counts();
      const elapsed = startTimer();
      for (const group of GROUPS) await stores.registry.putSplit({ service, proxyGroup: group.name, weights, revision: i + 2, updatedAt: new Date().toISOString() });
      await Promise.all(GROUPS.map((group) => router.applySplit(group, service, backend, weights)));
      stepMs.push(elapsed());
      requestsPerStep = countsSince(counted, counter.counts());
      const headsAfter = await Promise.all(GROUPS.map((group) => stores.parts.head(group.name)));
      if (headsAfter.some((head, g) => head?.revision === headsBefore[g]?.revision)) throw new Error(`a step did not publish: ${JSON.stringify({ headsBefore, headsAfter })}`);
    }

    // A behind Envoy: every subscription's version before the change.
    const clusters = Array.from({ length: size }, (_, i) => VERSIONS.map((v) => `${serviceName(i)}--${v}`)).flat();
    const poll = (name: string, versionInfo: string) =>
      serveDiscovery(deps, { group: REST_GROUP, nodeId: 'envoy-behind', request: { typeUrl: XdsType.Endpoint, versionInfo, resourceNames: [name], node: { id: 'envoy-behind', cluster: REST_GROUP.name } } });
    context.progress(`incremental: ${formatCount(clusters.length)} EDS subscriptions answered once before the change`);
    const versions = new Map<string, string>();
    for (const name of clusters) {
      const answer = await poll(name, '');
      if (answer.status === 200) versions.set(name, answer.body.version_info);
    }
    const moved = registeredVersion(Math.floor(size / 2), 1);
    const current = (await stores.registry.getService(service))!.versions.find((v) => v.version === 'v2')!;
    await stores.registry.putVersion({ ...moved, clusters: moved.clusters.map((c) => ({ ...c, endpoints: c.endpoints.map((e) => ({ ...e, port: 9090 })) })), revision: current.revision + 1 });
    await publishSnapshots(deps, { services: [service] });
    context.progress(`incremental: the behind node polls its ${formatCount(clusters.length)} EDS subscriptions`);
    let bytes = 0;
    let answered200 = 0;
    const polls = startTimer();
    for (const name of clusters) {
      const answer = await poll(name, versions.get(name) ?? '');
      if (answer.status === 200) {
        answered200++;
        bytes += Buffer.byteLength(JSON.stringify(answer.body));
      }
    }
    const edsMs = polls();
    return {
      step: { kind: 'step', services: size, groups: GROUPS.length, steps: STEPS.length, medianMs: roundMs(median(stepMs)), maxMs: roundMs(Math.max(...stepMs)), requestsPerStep, wholePublishMs: roundMs(wholePublishMs), aim: '≤ 50 ms per step, equal requests at every size' },
      eds: { kind: 'rest-eds-behind', services: size, subscriptions: clusters.length, answered200, answered304: clusters.length - answered200, bytes, ms: roundMs(edsMs), aim: '≤ 64 KiB at 10,000 services' },
    };
  } finally {
    table.documents.destroy();
    await dynamo.stop();
  }
}
