/**
 * Runs in a fresh Node (`node --expose-gc --import tsx snapshot-child.ts <services> <runs>`), one
 * per mesh size, so the peak RSS it reports belongs to that size alone. Builds the 4 groups'
 * snapshots `runs` times (the first in a cold process, the rest warm), checks each set for
 * consistency, then does what publishing does (buildIsolatingSnapshot: build and check, services
 * checked one by one only when the whole fails) on the mesh as it is and on the mesh with one
 * service poisoned (an endpoint in both clusters), and prints one JSON line (SnapshotChildReport).
 */
import { createHash } from 'node:crypto';
import { assertConsistent } from '../../shared/engine/envoy/consistency.js';
import { buildIsolatingSnapshot } from '../../shared/engine/envoy/isolation.js';
import { buildSnapshot, XDS_PUSH_ORDER, type GroupMesh, type Snapshot } from '../../shared/engine/envoy/snapshot.js';
import { ENVOY_GROUPS, groupMeshes } from './mesh-fixture.js';

export interface SnapshotChildRun {
  buildMs: number;
  checkMs: number;
  /** buildIsolatingSnapshot of the 4 groups, every service consistent: what a publish builds. */
  publishBuildMs: number;
  /** The same with one service poisoned: every service is then checked alone, and the snapshot assembled again without it. */
  poisonedBuildMs: number;
}

export interface SnapshotChildReport {
  services: number;
  groups: number;
  runs: SnapshotChildRun[];
  /** Resources of one group's snapshot, per type (the same count in every group). */
  resourcesPerGroup: Record<string, number>;
  /** JSON.stringify of each group's resources, every type: what full DiscoveryResponses of all types would carry. */
  jsonBytesPerGroup: number[];
  /** process.resourceUsage().maxRSS (the kernel's high-water mark), in bytes. */
  maxRssBytes: { meshBuilt: number; afterColdRun: number; atEnd: number };
  /** heapUsed after a full GC. */
  heapUsedBytes: { meshBuilt: number; snapshotsRetained: number };
}

const hash = (text: string): string => createHash('sha256').update(text).digest('hex');

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('snapshot-child needs --expose-gc');
  gc();
}

const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

function main(): void {
  const services = Number(process.argv[2]);
  const runCount = Number(process.argv[3]);
  if (!Number.isInteger(services) || services < 1 || !Number.isInteger(runCount) || runCount < 1) {
    throw new Error(`usage: snapshot-child.ts <services> <runs>, got ${process.argv.slice(2).join(' ')}`);
  }
  const meshes = groupMeshes(ENVOY_GROUPS, services);
  const poisoned = meshes.map(poison);
  collect();
  const meshBuilt = { rss: maxRss(), heap: process.memoryUsage().heapUsed };

  const runs: SnapshotChildRun[] = [];
  let afterColdRun = 0;
  let retainedHeap = 0;
  let snapshots: Snapshot[] = [];
  for (let run = 0; run < runCount; run++) {
    // Each run starts from the same heap: the previous run's snapshots are garbage, collected now rather than inside the timing.
    snapshots = [];
    collect();
    const buildStarted = performance.now();
    snapshots = meshes.map((mesh) => buildSnapshot(mesh, { hash }));
    const buildMs = performance.now() - buildStarted;
    const checkStarted = performance.now();
    for (const snapshot of snapshots) assertConsistent(snapshot);
    const checkMs = performance.now() - checkStarted;
    snapshots = [];
    collect();
    const publishStarted = performance.now();
    for (const mesh of meshes) if (buildIsolatingSnapshot(mesh, { hash }).isolated.length !== 0) throw new Error('the healthy mesh isolated a service');
    const publishBuildMs = performance.now() - publishStarted;
    collect();
    const poisonedStarted = performance.now();
    for (const mesh of poisoned) if (buildIsolatingSnapshot(mesh, { hash }).isolated.length !== 1) throw new Error('the poisoned service was not isolated');
    const poisonedBuildMs = performance.now() - poisonedStarted;
    snapshots = meshes.map((mesh) => buildSnapshot(mesh, { hash }));
    runs.push({ buildMs, checkMs, publishBuildMs, poisonedBuildMs });
    if (run === 0) {
      afterColdRun = maxRss();
      collect();
      retainedHeap = process.memoryUsage().heapUsed;
    }
  }
  const first = snapshots[0]!;
  const report: SnapshotChildReport = {
    services,
    groups: snapshots.length,
    runs,
    resourcesPerGroup: Object.fromEntries(XDS_PUSH_ORDER.map((typeUrl) => [typeUrl.slice(typeUrl.lastIndexOf('.') + 1), first.resources[typeUrl].length])),
    jsonBytesPerGroup: snapshots.map((s) => XDS_PUSH_ORDER.reduce((sum, typeUrl) => sum + Buffer.byteLength(JSON.stringify(s.resources[typeUrl].map((r) => r.resource))), 0)),
    maxRssBytes: { meshBuilt: meshBuilt.rss, afterColdRun, atEnd: maxRss() },
    heapUsedBytes: { meshBuilt: meshBuilt.heap, snapshotsRetained: retainedHeap },
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** The mesh with its middle service's v2 holding one endpoint in both clusters (the snapshot rule duplicate-endpoint). */
function poison(mesh: GroupMesh): GroupMesh {
  const index = Math.floor(mesh.services.length / 2);
  const services = [...mesh.services];
  const target = services[index]!;
  services[index] = {
    ...target,
    versions: target.versions.map((v) => (v.version === 'v2' ? { ...v, clusters: v.clusters.map((c) => ({ ...c, endpoints: [{ ...v.clusters[0]!.endpoints[0]! }] })) } : v)),
  };
  return { ...mesh, services };
}

main();
