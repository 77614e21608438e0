/**
 * Publishing into the per-service layout on a real table, and what to compare it with: the
 * snapshot a group's HEAD names, put together as a proxy is served it, and the snapshot a whole
 * build of the registry makes (test/integration/incremental-publish.test.ts, sidecar-publish.test.ts).
 */
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbMeshRegistry } from '../../shared/adapters/dynamodb/mesh-registry.js';
import { DynamoDbPartStore } from '../../shared/adapters/dynamodb/part-store.js';
import { DynamoDbSnapshotStore } from '../../shared/adapters/dynamodb/snapshot-store.js';
import type { GroupSplit, ProxyGroup, RegisteredVersion } from '../../shared/domain/mesh.js';
import { assembleType, versionsOf } from '../../shared/domain/snapshot-parts.js';
import { buildIsolatingSnapshot } from '../../shared/engine/envoy/isolation.js';
import { buildGroupPart, buildServicePart } from '../../shared/engine/envoy/service-part.js';
import { XDS_PUSH_ORDER, type Snapshot, type XdsTypeUrl } from '../../shared/engine/envoy/snapshot.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { PartStore } from '../../shared/ports/part-store.js';
import { configSourceOf, routable } from '../../shared/usecases/publish-snapshots.js';
import type { EnvoyGroup, XdsDeps } from '../../shared/usecases/xds-deps.js';
import { FixedClock } from './fakes.js';
import { sha256 } from './mesh-builders.js';

export const silent: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => silent };
export const GROUPS: readonly EnvoyGroup[] = [
  { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [], xds: { api: 'rest', clusterName: 'crossfade_xds', refreshDelaySeconds: 5, requestTimeoutSeconds: 5 } },
  { name: 'grpc-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [], xds: { api: 'ads' } },
];
export const AT = '2026-01-01T00:00:00.000Z';

export function depsOn(table: TableHandle, proxyGroups: readonly ProxyGroup[] = GROUPS, alwaysVisible: readonly string[] = []): XdsDeps & { registry: DynamoDbMeshRegistry; parts: PartStore } {
  return { registry: new DynamoDbMeshRegistry(table), snapshots: new DynamoDbSnapshotStore(table), parts: new DynamoDbPartStore(table, { logger: silent }), proxyGroups, alwaysVisible, clock: new FixedClock(new Date(AT)), logger: silent, hash: sha256 };
}

/** The registry's services at `weights` in every group, as registration and steps write them. */
export async function putSplit(d: XdsDeps, service: string, weights: Record<string, number>): Promise<void> {
  const state = await d.registry.getService(service);
  for (const group of d.proxyGroups) {
    const revision = (state?.splits.find((s) => s.proxyGroup === group.name)?.revision ?? 0) + 1;
    const split: GroupSplit = { service, proxyGroup: group.name, weights, revision, updatedAt: AT };
    await d.registry.putSplit(split);
  }
}

export async function register(d: XdsDeps, version: RegisteredVersion): Promise<void> {
  const stored = (await d.registry.getService(version.service))?.versions.find((v) => v.version === version.version);
  await d.registry.putVersion({ ...version, revision: (stored?.revision ?? 0) + 1 });
}

/** What the group's HEAD names, put together as a proxy is served it. */
export async function publishedSnapshot(parts: PartStore, group: string): Promise<Snapshot> {
  const head = (await parts.head(group))!;
  const all = await parts.allParts(head);
  const resources = Object.fromEntries(XDS_PUSH_ORDER.map((t) => [t, assembleType(all, t)])) as unknown as Snapshot['resources'];
  return { group, resources, versions: head.versions as Record<XdsTypeUrl, string> };
}

/**
 * The group's snapshot built whole from the registry as it is now (only the services `seen`
 * names, when given: a sidecar group's), with the versions whole-built parts give.
 */
export async function wholeBuild(d: XdsDeps, group: EnvoyGroup, seen?: ReadonlySet<string>): Promise<Snapshot> {
  const options = { hash: sha256, configSource: configSourceOf(group) };
  const names = (await d.registry.listServices()).filter((s) => !seen || seen.has(s));
  const states = (await Promise.all(names.map((s) => d.registry.getService(s)))).filter((s) => s !== undefined && routable(s));
  const services = states.flatMap((s) => {
    const split = s!.splits.find((x) => x.proxyGroup === group.name);
    return split ? [{ service: s!.service, versions: s!.versions, split: split.weights }] : [];
  });
  const { snapshot } = buildIsolatingSnapshot({ group, services }, options);
  const parts = [buildGroupPart(options), ...services.map((s) => buildServicePart(s, group, options)).flatMap((b) => (b.kind === 'part' ? [b.part] : []))];
  return { ...snapshot, versions: versionsOf(parts, XDS_PUSH_ORDER) as Record<XdsTypeUrl, string> };
}
