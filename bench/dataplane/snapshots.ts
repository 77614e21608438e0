/**
 * Scenario `dataplane/snapshots`: building and consistency-checking the 4 proxy groups' snapshots of
 * a mesh of 1,000 and of 10,000 services, each size in a fresh Node process (snapshot-child.ts), so
 * its peak RSS is that size's alone.
 */
import { fileURLToPath } from 'node:url';
import { runChildJson } from '../lib/child-json.js';
import { sized } from '../lib/size.js';
import { median, roundMs } from '../lib/stats.js';
import type { BenchContext, ScenarioOutcome } from '../lib/suite.js';
import { formatCount, formatMs, type Table } from '../lib/table.js';
import { AIMS, formatMiB } from './aims.js';
import { ENDPOINTS_PER_CLUSTER, ENVOY_GROUPS, MESH_CLUSTERS, VERSIONS } from './mesh-fixture.js';
import type { SnapshotChildReport } from './snapshot-child.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./snapshot-child.ts', import.meta.url));
const SIZES = sized([1_000, 10_000], [20]);
/** Per child: the first run is cold (fresh process, nothing compiled yet), the others warm. */
const RUNS = sized(3, 2);
const CHILD_TIMEOUT_MS = 180_000;

export async function measureSnapshots(context: BenchContext): Promise<ScenarioOutcome> {
  const results: Record<string, unknown>[] = [];
  const rows: string[][] = [];
  for (const services of SIZES) {
    context.progress(`snapshots: ${formatCount(services)} services, ${RUNS} runs in a fresh node`);
    const report = await runChildJson<SnapshotChildReport>({ script: CHILD, args: [String(services), String(RUNS)], nodeFlags: ['--expose-gc'], cwd: REPO, timeoutMs: CHILD_TIMEOUT_MS });
    const build = report.runs.map((r) => r.buildMs);
    const check = report.runs.map((r) => r.checkMs);
    const publish = report.runs.map((r) => r.publishBuildMs);
    const poisoned = report.runs.map((r) => r.poisonedBuildMs);
    const warm = report.runs.slice(1);
    const jsonBytes = report.jsonBytesPerGroup.reduce((sum, bytes) => sum + bytes, 0);
    const result = {
      services,
      groups: report.groups,
      runs: report.runs.length,
      buildMs: { median: roundMs(median(build)), cold: roundMs(build[0]!), warmMedian: roundMs(median(warm.map((r) => r.buildMs))), all: build.map(roundMs) },
      checkMs: { median: roundMs(median(check)), cold: roundMs(check[0]!), warmMedian: roundMs(median(warm.map((r) => r.checkMs))), all: check.map(roundMs) },
      publishBuildMs: { median: roundMs(median(publish)), all: publish.map(roundMs) },
      poisonedBuildMs: { median: roundMs(median(poisoned)), all: poisoned.map(roundMs) },
      resourcesPerGroup: report.resourcesPerGroup,
      jsonBytes: { total: jsonBytes, perGroup: report.jsonBytesPerGroup },
      maxRssBytes: report.maxRssBytes,
      heapUsedBytes: report.heapUsedBytes,
      aim: services === 10_000 ? AIMS.snapshots : null,
    };
    results.push(result);
    rows.push([
      formatCount(services),
      formatCount(Object.values(report.resourcesPerGroup).reduce((sum, n) => sum + n, 0) * report.groups),
      formatMs(result.buildMs.median),
      `${formatMs(result.buildMs.cold)} / ${formatMs(result.buildMs.warmMedian)}`,
      formatMs(result.buildMs.median / report.groups),
      formatMs(result.checkMs.median),
      `${formatMs(result.checkMs.cold)} / ${formatMs(result.checkMs.warmMedian)}`,
      formatMs(result.publishBuildMs.median),
      formatMs(result.poisonedBuildMs.median),
      formatMiB(jsonBytes),
      formatMiB(report.maxRssBytes.atEnd),
      formatMiB(report.maxRssBytes.meshBuilt),
      formatMiB(report.heapUsedBytes.snapshotsRetained - report.heapUsedBytes.meshBuilt),
      services === 10_000 ? 'build < 1 s' : '',
    ]);
  }
  const table: Table = {
    title: `dataplane / snapshots: build + consistency check, ${ENVOY_GROUPS.length} proxy groups — node ${process.version}, ${RUNS} runs per size`,
    columns: [
      { header: 'services' },
      { header: 'resources', align: 'right' },
      { header: 'build ms (4 groups)', align: 'right' },
      { header: 'cold / warm', align: 'right' },
      { header: 'per group', align: 'right' },
      { header: 'check ms (4 groups)', align: 'right' },
      { header: 'cold / warm', align: 'right' },
      { header: 'publish build ms', align: 'right' },
      { header: 'one poisoned ms', align: 'right' },
      { header: 'JSON (4 groups)', align: 'right' },
      { header: 'peak RSS', align: 'right' },
      { header: 'RSS before build', align: 'right' },
      { header: 'heap held', align: 'right' },
      { header: 'aim' },
    ],
    rows,
    notes: [
      `Mesh: ${VERSIONS.length} versions per service, each with ${ENDPOINTS_PER_CLUSTER} endpoints (zones a/b/c) in ${MESH_CLUSTERS.map((c) => `${c.name} (${c.cloud})`).join(' and ')}; groups ${ENVOY_GROUPS.map((g) => g.name).join(', ')} (ADS config source: Envoy listener + route, plus an api_listener and route per service for proxyless gRPC). Registrations are shared by the 4 groups' inputs; splits differ per cloud.`,
      'build: buildSnapshot for all 4 groups (content hashes with node:crypto sha256 included); check: assertConsistent on the 4 snapshots. Input construction is not timed.',
      'publish build: buildIsolatingSnapshot for the 4 groups, what a publish does (build + check; services are checked one by one only when the whole fails). one poisoned: the same with one service\'s v2 holding one endpoint in both clusters, which is then left out of every group\'s snapshot (per-service checks, then the snapshot assembled and checked again).',
      `Each size in its own fresh Node (--expose-gc). Median of ${RUNS} runs; cold = run 1 (nothing JIT-compiled yet), warm = median of runs 2–${RUNS}; a full GC before each run keeps the previous run's garbage out of its timing.`,
      'JSON: JSON.stringify of every resource of every type, summed over the 4 groups (what full DiscoveryResponses of all 4 types would carry); resources: over the 4 groups.',
      'peak RSS: process.resourceUsage().maxRSS at the end of the child (the kernel\'s high-water mark over all runs, the publish and poisoned builds included); RSS before build: the same after the input mesh was built; heap held: heapUsed after a full GC with one set of 4 snapshots alive, minus before.',
      `Aim: ${AIMS.snapshots}. Figures move with other load on the machine (load average in the JSON).`,
    ],
  };
  return { tables: [table], results };
}
