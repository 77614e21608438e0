/**
 * Scenario `dataplane/sidecar`: a dependency-scoped group (docs/dataplane.md "Dependency-scoped
 * groups") at 10,000 registered services on the embedded store: the sidecar group of one service
 * that declared 20 dependencies.
 * - its snapshot's bytes (every type put together from its published parts, as JSON) against the
 *   bytes of the full group's snapshot of the same registry (built from every service's part with
 *   the same builder, in memory: publishing 10,000 parts only to measure them would take a minute);
 * - a traffic step of one dependency published into the sidecar group: publishSnapshots of that
 *   service, p50/p99 over the steps;
 * - the declaration itself (PUT /v1/services/{s}/dependencies' use case), which publishes the
 *   sidecar group whole from what it sees.
 */
import { randomUUID } from 'node:crypto';
import { createTableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores, ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { createJsonLogger } from '../../shared/adapters/json-logger.js';
import { sha256Hex, systemClock } from '../../shared/adapters/system.js';
import { assembleType, type SnapshotPart } from '../../shared/domain/snapshot-parts.js';
import { buildGroupPart, buildServicePart } from '../../shared/engine/envoy/service-part.js';
import { XDS_PUSH_ORDER } from '../../shared/engine/envoy/snapshot.js';
import { declareDependencies } from '../../shared/usecases/declare-dependencies.js';
import { configSourceOf, publishSnapshots } from '../../shared/usecases/publish-snapshots.js';
import { startEmbeddedDynamo } from '../../local/embedded-dynamo.js';
import { roundMs, summarize } from '../lib/stats.js';
import { sized } from '../lib/size.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';
import { startTimer } from '../lib/timing.js';
import { formatSize } from './aims.js';
import { registeredVersion, serviceName, VERSIONS, type EnvoyGroup } from './mesh-fixture.js';
import { seedRegistry } from './seed.js';

const SERVICES = sized(10_000, 40);
const DEPENDENCIES = sized(20, 5);
const STEPS = sized(100, 5);
const SEED_CONCURRENCY = 8;
const OWNER = serviceName(0);
const SIDECARS: EnvoyGroup = { name: 'sidecars-owner', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [], xds: { api: 'ads' }, sidecarOf: OWNER };
/** The same proxies' transport without the scope: what the sidecar group would be served as a whole group. */
const WHOLE: EnvoyGroup = { ...SIDECARS, name: 'whole' };

export async function measureSidecar(context: BenchContext): Promise<ScenarioOutcome> {
  const dynamo = await startEmbeddedDynamo({});
  const table = createTableHandle({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestTimeoutMs: 60_000 }, `crossfade-bench-${randomUUID().slice(0, 8)}`);
  try {
    await ensureTable(table);
    const stores = createDynamoDbStores(table);
    context.progress(`sidecar: seeding ${formatCount(SERVICES)} services`);
    await seedRegistry(stores.registry, {
      services: SERVICES,
      concurrency: SEED_CONCURRENCY,
      splitsOf: () => [{ proxyGroup: SIDECARS.name, weights: { v1: 100, v2: 0 }, revision: 1, updatedAt: '2026-01-01T00:00:00.000Z' }],
      progress: context.progress,
    });
    const deps = { ...stores, proxyGroups: [SIDECARS], alwaysVisible: [], clock: systemClock, logger: createJsonLogger({ level: 'silent' }), hash: sha256Hex };
    // Spread over the registry, so they fall in many buckets.
    const dependencies = Array.from({ length: DEPENDENCIES }, (_, i) => serviceName(1 + Math.floor((i * (SERVICES - 1)) / DEPENDENCIES)));
    const declaring = startTimer();
    const declared = await declareDependencies(deps, { service: OWNER, dependencies, actor: 'bench' });
    const declareMs = declaring();
    const published = declared.publication?.groups[0];
    if (published?.outcome !== 'published') throw new Error(`the declaration did not publish the sidecar group: ${JSON.stringify(declared.publication)}`);

    const stepMs: number[] = [];
    const stepped = dependencies[0]!;
    for (let i = 0; i < STEPS; i++) {
      const canary = (i % 9) * 10 + 10;
      await stores.registry.putSplit({ service: stepped, proxyGroup: SIDECARS.name, weights: { v1: 100 - canary, v2: canary }, revision: i + 2, updatedAt: new Date().toISOString() });
      const elapsed = startTimer();
      const report = await publishSnapshots(deps, { services: [stepped] });
      stepMs.push(elapsed());
      if (report.groups[0]?.outcome !== 'published') throw new Error(`step ${i + 1} did not publish into the sidecar group: ${JSON.stringify(report.groups)}`);
    }

    const head = (await stores.parts.head(SIDECARS.name))!;
    const sidecarParts = await stores.parts.allParts(head);
    if (sidecarParts.length !== DEPENDENCIES + 1) throw new Error(`the sidecar group holds ${sidecarParts.length - 1} services' parts, not its ${DEPENDENCIES} dependencies`);
    const sidecarBytes = snapshotBytes(sidecarParts);
    context.progress(`sidecar: building the full group's ${formatCount(SERVICES)} parts to measure it`);
    const fullBytes = snapshotBytes(wholeGroupParts(SERVICES));
    const step = summarize(stepMs);
    const ratio = sidecarBytes / fullBytes;
    const result = {
      kind: 'sidecar',
      services: SERVICES,
      dependencies: DEPENDENCIES,
      sidecarBytes,
      fullBytes,
      ratioPercent: Math.round(ratio * 10_000) / 100,
      steps: STEPS,
      publishP50Ms: roundMs(step.p50),
      publishP99Ms: roundMs(step.p99),
      publishMaxMs: roundMs(step.max),
      declareMs: roundMs(declareMs),
      aim: 'snapshot ≤ 1% of the full one; publish ≤ 20 ms',
    };
    const tables: Table[] = [
      {
        title: `dataplane / sidecar: a sidecar group of a service with ${DEPENDENCIES} dependencies, at ${formatCount(SERVICES)} services, embedded store — node ${process.version}`,
        columns: [
          { header: 'services', align: 'right' },
          { header: 'dependencies', align: 'right' },
          { header: 'sidecar snapshot', align: 'right' },
          { header: 'full snapshot', align: 'right' },
          { header: 'ratio', align: 'right' },
          { header: 'publish p50', align: 'right' },
          { header: 'p99', align: 'right' },
          { header: 'declaration ms', align: 'right' },
        ],
        rows: [[formatCount(SERVICES), formatCount(DEPENDENCIES), formatSize(sidecarBytes), formatSize(fullBytes), `${result.ratioPercent}%`, formatMs(result.publishP50Ms), formatMs(result.publishP99Ms), formatMs(result.declareMs)]],
        notes: [
          'Snapshot: the JSON of every type (CDS, EDS, LDS, RDS over ADS) put together from the group\'s parts; the full one from every registered service\'s part, the sidecar one from its published HEAD.',
          `Publish: publishSnapshots of one dependency after its split was written (${STEPS} steps), as a canary step does; the declaration: declareDependencies, which publishes the sidecar group whole from what it sees.`,
          `Registry: ${VERSIONS.length} versions per service, 3 endpoints in each of 2 clusters per version. Aim (issue 11 point 4): sidecar snapshot ≤ 1% of the full one, publish ≤ 20 ms.`,
        ],
      },
    ];
    return { tables, results: [result] };
  } finally {
    table.documents.destroy();
    await dynamo.stop();
  }
}

/** Every service's part of a whole group of the same transport, built from the fixture as it was seeded. */
function wholeGroupParts(services: number): SnapshotPart[] {
  const options = { hash: sha256Hex, configSource: configSourceOf(WHOLE) };
  const parts: SnapshotPart[] = [buildGroupPart(options)];
  for (let i = 0; i < services; i++) {
    const built = buildServicePart({ service: serviceName(i), versions: VERSIONS.map((_, v) => registeredVersion(i, v)), split: { v1: 100, v2: 0 } }, WHOLE, options);
    if (built.kind === 'part') parts.push(built.part);
  }
  return parts;
}

function snapshotBytes(parts: readonly SnapshotPart[]): number {
  return XDS_PUSH_ORDER.reduce((sum, typeUrl) => sum + Buffer.byteLength(JSON.stringify(assembleType(parts, typeUrl))), 0);
}
