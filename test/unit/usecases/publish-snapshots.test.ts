/** Publishing every Envoy group's snapshot from the registry (shared/usecases/publish-snapshots.ts), on fakes. */
import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../../shared/domain/errors.js';
import type { ProxyGroup, RegisteredVersion } from '../../../shared/domain/mesh.js';
import { XdsType } from '../../../shared/engine/envoy/snapshot.js';
import { publishSnapshots } from '../../../shared/usecases/publish-snapshots.js';
import { rejectionOf } from '../../support/errors.js';
import { fakeHttpDeps, type FakeHttpDeps } from '../../support/fakes.js';
import { InMemoryMeshRegistry, InMemoryPartStore } from '../../support/mesh-fakes.js';

const GROUPS: readonly ProxyGroup[] = [
  { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }], xds: { api: 'rest', clusterName: 'xds.example.com', refreshDelaySeconds: 7, requestTimeoutSeconds: 9 } },
  { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [], xds: { api: 'ads' } },
  { name: 'haproxy-gcp-usc1', kind: 'haproxy', cloud: 'gcp', region: 'us-central1', proxies: [] },
];

function version(service: string, name: string, addresses: string[]): RegisteredVersion {
  const endpoints = addresses.map((address) => ({ address, port: 8080, zone: null }));
  return { service, version: name, clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints }], registeredAt: '2026-01-01T00:00:00.000Z', registeredBy: 'test', revision: 1 };
}

/** checkout at 90/10 in every group, cart at 100 on v7; the snapshot store and registry are fresh fakes. */
async function deps(overrides: Partial<FakeHttpDeps> = {}): Promise<FakeHttpDeps & { registry: InMemoryMeshRegistry; parts: InMemoryPartStore }> {
  const registry = new InMemoryMeshRegistry();
  await registry.putVersion(version('checkout', 'v1', ['10.0.1.10']));
  await registry.putVersion(version('checkout', 'v2', ['10.0.1.20']));
  await registry.putVersion(version('cart', 'v7', ['10.0.2.1']));
  for (const group of GROUPS) {
    await registry.putSplit({ service: 'checkout', proxyGroup: group.name, weights: { v1: 90, v2: 10 }, revision: 1, updatedAt: '2026-01-01T00:00:00.000Z' });
    await registry.putSplit({ service: 'cart', proxyGroup: group.name, weights: { v7: 100 }, revision: 1, updatedAt: '2026-01-01T00:00:00.000Z' });
  }
  const parts = new InMemoryPartStore();
  return { ...fakeHttpDeps(), proxyGroups: GROUPS, registry, parts, ...overrides } as FakeHttpDeps & { registry: InMemoryMeshRegistry; parts: InMemoryPartStore };
}

const edsConfigOf = async (d: { parts: InMemoryPartStore }, group: string): Promise<unknown> => {
  const head = (await d.parts.head(group))!;
  const [cluster] = await d.parts.resources(head, XdsType.Cluster);
  return (cluster!.resource['eds_cluster_config'] as Record<string, unknown>)['eds_config'];
};

describe('publishSnapshots', () => {
  it("publishes each Envoy group's snapshot in the group's flavour, and none for HAProxy groups", async () => {
    const d = await deps();
    const report = await publishSnapshots(d);
    expect(report.groups.map((g) => [g.group, g.outcome])).toEqual([
      ['envoy-aws-use1', 'published'],
      ['envoy-gcp-usc1', 'published'],
    ]);
    expect(await d.parts.head('haproxy-gcp-usc1')).toBeUndefined();
    expect(await edsConfigOf(d, 'envoy-aws-use1')).toEqual({
      api_config_source: { api_type: 'REST', transport_api_version: 'V3', cluster_names: ['xds.example.com'], refresh_delay: '7s', request_timeout: '9s' },
      resource_api_version: 'V3',
    });
    expect(await edsConfigOf(d, 'envoy-gcp-usc1')).toEqual({ ads: {}, resource_api_version: 'V3' });
    const routes = await d.parts.resources((await d.parts.head('envoy-aws-use1'))!, XdsType.Route);
    expect(JSON.stringify(routes)).toContain('"weighted_clusters":{"clusters":[{"name":"checkout--v1","weight":90},{"name":"checkout--v2","weight":10}]}');
  });

  it('publishes nothing when nothing changed, and a new version of the routes when a split did', async () => {
    const d = await deps();
    const first = await publishSnapshots(d);
    const writes = d.parts.writes;
    expect((await publishSnapshots(d)).groups.map((g) => g.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(d.parts.writes).toBe(writes);

    await d.registry.putSplit({ service: 'checkout', proxyGroup: 'envoy-aws-use1', weights: { v1: 50, v2: 50 }, revision: 2, updatedAt: '2026-01-01T00:01:00.000Z' });
    const second = await publishSnapshots(d);
    expect(second.groups.map((g) => g.outcome)).toEqual(['published', 'unchanged']);
    const [before, after] = [first.groups[0]!, second.groups[0]!];
    if (before.outcome === 'refused' || after.outcome === 'refused') throw new Error('expected versions');
    expect(after.versions[XdsType.Route]).not.toBe(before.versions[XdsType.Route]);
    expect(after.versions[XdsType.Cluster]).toBe(before.versions[XdsType.Cluster]);
  });

  it('publishes only the groups asked for', async () => {
    const d = await deps();
    expect((await publishSnapshots(d, { groups: ['envoy-gcp-usc1'] })).groups.map((g) => g.group)).toEqual(['envoy-gcp-usc1']);
    expect(await d.parts.head('envoy-aws-use1')).toBeUndefined();
  });

  it('reads a service the listing does not show yet when told to (the listing is eventually consistent)', async () => {
    const d = await deps();
    const registry = d.registry;
    const lagging = Object.assign(Object.create(registry) as InMemoryMeshRegistry, { listServices: async () => ['cart'] });
    await publishSnapshots({ ...d, registry: lagging });
    const clusters = async () => (await d.parts.resources((await d.parts.head('envoy-aws-use1'))!, XdsType.Cluster)).map((r) => r.name);
    expect(await clusters()).toEqual(['cart--v7']);
    await publishSnapshots({ ...d, registry: lagging }, { services: ['checkout'] });
    expect(await clusters()).toEqual(['cart--v7', 'checkout--v1', 'checkout--v2']);
  });

  it('leaves out a service whose resources break a rule, naming it with the rule; every other service is published', async () => {
    const d = await deps();
    await publishSnapshots(d);
    // v2 takes 10% in the AWS group, but has lost its endpoints; in the GCP group it has none of the traffic.
    await d.registry.putVersion({ ...version('checkout', 'v2', []), revision: 2 });
    await d.registry.putSplit({ service: 'checkout', proxyGroup: 'envoy-gcp-usc1', weights: { v1: 100, v2: 0 }, revision: 2, updatedAt: '2026-01-01T00:01:00.000Z' });
    await d.registry.putVersion(version('cart', 'v8', ['10.0.2.2']));

    const report = await publishSnapshots(d);
    expect(report.groups[0]).toMatchObject({
      group: 'envoy-aws-use1',
      outcome: 'published',
      isolated: [{ service: 'checkout', rule: 'route-cluster-empty', field: 'RouteConfiguration/crossfade_http', reason: expect.stringContaining('"checkout--v2", which has no endpoints') }],
    });
    expect(report.groups[1]).toMatchObject({ group: 'envoy-gcp-usc1', outcome: 'published', isolated: [] });
    expect(report.withoutEndpoints).toEqual([]);
    const clusters = (await d.parts.resources((await d.parts.head('envoy-aws-use1'))!, XdsType.Cluster)).map((r) => r.name);
    expect(clusters).toEqual(['cart--v7', 'cart--v8']);
    const warning = d.logger.at('warn').find((l) => l.message.startsWith('services isolated from snapshots'));
    expect(warning?.fields).toMatchObject({ isolated: [{ group: 'envoy-aws-use1', service: 'checkout', rule: 'route-cluster-empty' }] });
  });

  it('leaves out a service whose registration repeats an endpoint (written before registration refused it)', async () => {
    const d = await deps();
    const twice = version('checkout', 'v2', ['10.60.0.9']);
    await d.registry.putVersion({ ...twice, clusters: [...twice.clusters, { cloud: 'gcp', cluster: 'gke-usc1', region: 'us-central1', endpoints: [{ address: '10.60.0.9', port: 8080, zone: null }] }], revision: 2 });
    const report = await publishSnapshots(d);
    for (const group of report.groups) {
      expect(group).toMatchObject({ outcome: 'published', isolated: [{ service: 'checkout', rule: 'duplicate-endpoint', field: 'ClusterLoadAssignment/checkout--v2' }] });
    }
    const routes = JSON.stringify(await d.parts.resources((await d.parts.head('envoy-gcp-usc1'))!, XdsType.Route));
    expect(routes).toContain('cart--v7');
    expect(routes).not.toContain('checkout');
  });

  it('refuses a snapshot whose problem lies between services (one resource name from two), keeping the last one', async () => {
    const d = await deps();
    await publishSnapshots(d);
    const published = await d.parts.head('envoy-aws-use1');
    // cart--x's version v1 and cart's version x--v1 both make the cluster "cart--x--v1".
    await d.registry.putVersion(version('cart', 'x--v1', ['10.0.3.1']));
    await d.registry.putVersion(version('cart--x', 'v1', ['10.0.3.2']));
    await d.registry.putSplit({ service: 'cart--x', proxyGroup: 'envoy-aws-use1', weights: { v1: 100 }, revision: 1, updatedAt: '2026-01-01T00:01:00.000Z' });
    const report = await publishSnapshots(d);
    expect(report.groups[0]).toMatchObject({ group: 'envoy-aws-use1', outcome: 'refused', rule: 'duplicate-name', field: 'Cluster/cart--x--v1' });
    expect(await d.parts.head('envoy-aws-use1')).toEqual(published);
    expect(d.logger.at('warn').map((l) => l.message)).toContain('snapshots refused');
  });

  it('leaves out a service none of whose versions has an endpoint (nothing to route to), and says so', async () => {
    const d = await deps();
    await d.registry.putVersion(version('search', 'v1', []));
    await d.registry.putSplit({ service: 'search', proxyGroup: 'envoy-aws-use1', weights: { v1: 100 }, revision: 1, updatedAt: '2026-01-01T00:00:00.000Z' });
    const report = await publishSnapshots(d);
    expect(report.withoutEndpoints).toEqual(['search']);
    expect(report.groups.map((g) => g.outcome)).toEqual(['published', 'published']);
  });

  it('a HEAD that moved under it is read again and published over; it gives up after three tries', async () => {
    const d = await deps();
    d.parts.failNext('publish', new VersionConflictError('snapshot head of proxy group envoy-aws-use1', 0));
    const report = await publishSnapshots(d);
    expect(report.groups.map((g) => g.outcome)).toEqual(['published', 'published']);
    expect(d.parts.writeAttempts).toBe(3);

    const busy = await deps({ proxyGroups: [GROUPS[0]!] });
    for (let i = 0; i < 3; i++) busy.parts.failNext('publish', new VersionConflictError('snapshot head of proxy group envoy-aws-use1', 0));
    expect(await rejectionOf(publishSnapshots(busy))).toMatchObject({ name: 'VersionConflictError' });
  });

  it('reads and writes nothing when there is no Envoy group', async () => {
    const d = await deps({ proxyGroups: [GROUPS[2]!] });
    expect(await publishSnapshots(d)).toEqual({ groups: [], withoutEndpoints: [] });
    expect(d.parts.reads + d.parts.writeAttempts).toBe(0);
  });
});
