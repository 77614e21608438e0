/** The REST-xDS routes (shared/http/routes/discovery.ts) through the HTTP core, on fakes. */
import { describe, expect, it } from 'vitest';
import type { ProxyGroup } from '../../../shared/domain/mesh.js';
import { XdsType } from '../../../shared/engine/envoy/snapshot.js';
import { hashToken } from '../../../shared/http/auth.js';
import { createApiHandler } from '../../../shared/http/routes.js';
import type { HttpRequest, HttpResponse } from '../../../shared/http/types.js';
import { publishSnapshots } from '../../../shared/usecases/publish-snapshots.js';
import { fakeHttpDeps, TEST_TOKEN_ENTRIES, TEST_TOKENS, type FakeHttpDeps } from '../../support/fakes.js';
import { InMemoryMeshRegistry, InMemoryPartStore, InMemorySnapshotStore } from '../../support/mesh-fakes.js';

const XDS_TOKEN = 'cf_unit_xds_envoy_aws_0123456789ab';
const GROUPS: readonly ProxyGroup[] = [
  { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }] },
  { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [{ nodeId: 'envoy-gcp-1' }] },
  { name: 'envoy-aws-grpc', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'grpc-client-1' }], xds: { api: 'ads' } },
];

async function deps(): Promise<FakeHttpDeps & { snapshots: InMemorySnapshotStore; parts: InMemoryPartStore }> {
  const registry = new InMemoryMeshRegistry();
  const endpoints = [{ address: '10.0.1.10', port: 8080, zone: null }];
  await registry.putVersion({ service: 'checkout', version: 'v1', clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints }], registeredAt: '2026-01-01T00:00:00.000Z', registeredBy: 't', revision: 1 });
  for (const group of GROUPS) await registry.putSplit({ service: 'checkout', proxyGroup: group.name, weights: { v1: 100 }, revision: 1, updatedAt: '2026-01-01T00:00:00.000Z' });
  const d = fakeHttpDeps({
    registry,
    proxyGroups: GROUPS,
    snapshots: new InMemorySnapshotStore(),
    tokenEntries: [...TEST_TOKEN_ENTRIES, { id: 'envoy-aws', sha256: hashToken(XDS_TOKEN), scopes: [{ kind: 'xds', groupGlob: 'envoy-aws-*' }] }],
  });
  await publishSnapshots(d);
  return d as FakeHttpDeps & { snapshots: InMemorySnapshotStore; parts: InMemoryPartStore };
}

function poll(kind: string, body: unknown): HttpRequest {
  return { method: 'POST', path: `/v3/discovery:${kind}`, query: {}, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)), origin: 'http://127.0.0.1', requestId: 'r' };
}

const node = (id = 'envoy-aws-1', token: unknown = XDS_TOKEN) => ({ id, cluster: 'edge', metadata: { token } });
const clusters = (version_info = '', n: unknown = node()) => ({ node: n, type_url: XdsType.Cluster, version_info, resource_names: [] });
const json = (response: HttpResponse): Record<string, unknown> => JSON.parse(response.body) as Record<string, unknown>;

describe('POST /v3/discovery:*', () => {
  it('answers a first poll with the type, then 304 with an empty body once the node reports it, after one read', async () => {
    const d = await deps();
    const handle = createApiHandler(d);
    const first = await handle(poll('clusters', clusters()));
    expect(first.statusCode).toBe(200);
    const body = json(first);
    expect(body).toMatchObject({ type_url: XdsType.Cluster, resources: [{ '@type': XdsType.Cluster, name: 'checkout--v1' }] });

    const reads = d.parts.reads;
    const current = await handle(poll('clusters', clusters(body['version_info'] as string)));
    expect(current).toEqual({ statusCode: 304, headers: { 'cache-control': 'no-store' }, body: '' });
    expect(d.parts.reads - reads).toBe(1);
    expect(await d.snapshots.listAcks('envoy-aws-use1')).toEqual([
      { group: 'envoy-aws-use1', nodeId: 'envoy-aws-1', typeUrl: XdsType.Cluster, version: body['version_info'], at: expect.any(String), served: { version: body['version_info'], at: expect.any(String) } },
    ]);
  });

  it('answers EDS naming its cluster per resource: only what is named, 304 while the named set is unchanged whatever else changes', async () => {
    const d = await deps();
    const other = { address: '10.0.9.9', port: 8080, zone: null };
    await d.registry.putVersion({ service: 'cart', version: 'v7', clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [other] }], registeredAt: '2026-01-01T00:00:00.000Z', registeredBy: 't', revision: 1 });
    await d.registry.putSplit({ service: 'cart', proxyGroup: 'envoy-aws-use1', weights: { v7: 100 }, revision: 1, updatedAt: '2026-01-01T00:00:00.000Z' });
    await publishSnapshots(d, { services: ['cart'] });
    const handle = createApiHandler(d);
    const eds = (name: string, version_info = '') => poll('endpoints', { node: node(), type_url: XdsType.Endpoint, version_info, resource_names: [name] });

    const first = await handle(eds('checkout--v1'));
    expect(first.statusCode).toBe(200);
    const body = json(first) as { version_info: string; resources: { cluster_name: string }[] };
    expect(body.resources.map((r) => r.cluster_name)).toEqual(['checkout--v1']);
    const cart = json(await handle(eds('cart--v7'))) as { version_info: string };
    expect(cart.version_info).not.toBe(body.version_info);

    // cart's endpoints move: checkout's subscription stays current, and the node is recorded as running what is published.
    await d.registry.putVersion({ service: 'cart', version: 'v7', clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ ...other, address: '10.0.9.10' }] }], registeredAt: '2026-01-01T00:00:00.000Z', registeredBy: 't', revision: 2 });
    await publishSnapshots(d, { services: ['cart'] });
    expect((await handle(eds('checkout--v1', body.version_info))).statusCode).toBe(304);
    const published = (await d.parts.head('envoy-aws-use1'))!.versions[XdsType.Endpoint];
    expect((await d.snapshots.listAcks('envoy-aws-use1')).find((a) => a.typeUrl === XdsType.Endpoint)?.version).toBe(published);
    const moved = await handle(eds('cart--v7', cart.version_info));
    expect(moved.statusCode).toBe(200);
    expect(JSON.stringify(json(moved)['resources'])).toContain('10.0.9.10');
    expect(JSON.stringify(json(moved)['resources'])).not.toContain('checkout');
  });

  it('reads lowerCamelCase bodies too', async () => {
    const handle = createApiHandler(await deps());
    const answer = await handle(poll('routes', { node: node(), typeUrl: XdsType.Route, versionInfo: '', resourceNames: ['crossfade_http'] }));
    expect(answer.statusCode).toBe(200);
    expect(json(answer)['resources']).toHaveLength(1);
  });

  it.each([
    ['no token', clusters('', { id: 'envoy-aws-1', cluster: 'edge' })],
    ['an unknown token', clusters('', node('envoy-aws-1', 'cf_not_a_token_we_know_0123'))],
    ['a token that is not a string', clusters('', node('envoy-aws-1', 42))],
  ])('401 for %s (an API bearer token in a header counts for nothing), having read and written nothing', async (_name, body) => {
    const d = await deps();
    const reads = d.parts.reads;
    const request = { ...poll('clusters', body), headers: { authorization: `Bearer ${TEST_TOKENS.admin}` } };
    const answer = await createApiHandler(d)(request);
    expect(answer.statusCode).toBe(401);
    expect(json(answer)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    expect(d.parts.reads - reads).toBe(0);
    expect(await d.snapshots.listAcks('envoy-aws-use1')).toEqual([]);
  });

  it.each([
    ['a node of a group the token does not cover', clusters('', node('envoy-gcp-1')), 'scope'],
    ['a node of no group', clusters('', node('envoy-unknown-7')), 'xds-group'],
    ['an admin token in the node metadata', clusters('', node('envoy-aws-1', TEST_TOKENS.admin)), 'scope'],
  ])('403 for %s', async (_name, body, rule) => {
    const d = await deps();
    const answer = await createApiHandler(d)(poll('clusters', body));
    expect(answer.statusCode).toBe(403);
    expect(json(answer)).toMatchObject({ error: { code: 'FORBIDDEN', rule } });
    expect(await d.snapshots.listAcks('envoy-gcp-usc1')).toEqual([]);
  });

  it.each([
    ['a type_url the path does not serve', 'clusters', { ...clusters(), type_url: XdsType.Route }, 'type_url'],
    ['no node id', 'clusters', clusters('', { cluster: 'envoy-aws-use1', metadata: { token: XDS_TOKEN } }), 'node.id'],
    ['resource_names that are not strings', 'endpoints', { node: node(), type_url: XdsType.Endpoint, resource_names: [1] }, 'resource_names'],
    ['a node of a group served over ADS', 'clusters', clusters('', node('grpc-client-1')), 'node'],
    ['a node id too long to store', 'clusters', clusters('', { ...node(), id: 'n'.repeat(257), cluster: 'envoy-aws-use1' }), 'node.id'],
    ['a version_info too long to store', 'clusters', clusters('v'.repeat(129)), 'version_info'],
  ])('400 for %s', async (_name, kind, body, field) => {
    const d = await deps();
    const answer = await createApiHandler(d)(poll(kind, body));
    expect(answer.statusCode).toBe(400);
    expect(json(answer)).toMatchObject({ error: { code: 'VALIDATION_FAILED', field } });
  });

  it('404 for a type it does not serve, and for a group with nothing published', async () => {
    const d = await deps();
    const secrets = await createApiHandler(d)(poll('secrets', clusters()));
    expect(secrets.statusCode).toBe(404);
    expect(json(secrets)).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const empty = await deps();
    empty.parts = new InMemoryPartStore();
    const nothing = await createApiHandler(empty)(poll('clusters', clusters()));
    expect(nothing.statusCode).toBe(404);
    expect(json(nothing)).toMatchObject({ error: { message: 'nothing has been published for proxy group envoy-aws-use1 yet' } });
  });
});
