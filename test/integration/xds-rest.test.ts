/**
 * Envoy's REST-JSON discovery (docs/api.md "Data plane"; docs/dataplane.md) through the local server on
 * DynamoDB Local, polled exactly as Envoy's REST subscriptions poll: snake_case bodies, the node
 * with its id, cluster and token in metadata, the type URL, sorted resource names, the version it
 * applied. Every DynamoDB request the server makes goes through a counting proxy, so "a current
 * poll costs one read" is measured on the wire, not assumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/adapters/config-file.js';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores, type Stores } from '../../shared/adapters/dynamodb/stores.js';
import { sha256Hex, systemClock } from '../../shared/adapters/system.js';
import { encodeResource, messageType, roundTripResource, type JsonRecord } from '../../shared/adapters/xds/proto.js';
import { XDS_PUSH_ORDER, XdsType } from '../../shared/engine/envoy/snapshot.js';
import { hashToken } from '../../shared/http/auth.js';
import type { Logger } from '../../shared/ports/logger.js';
import { publishSnapshots } from '../../shared/usecases/publish-snapshots.js';
import { startDynamoDbCounter, type DynamoDbCounter } from '../support/dynamodb-counter.js';
import { apiTableOnDynamoDbLocal, bearer, localTarget, tokens, type Answer, type ApiEnvironment, type HttpTarget } from '../support/http-targets.js';

const XDS_TOKEN = 'cf_test_xds_envoy_aws_0123456789abcdef';
const silent: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => silent };

let api: ApiEnvironment | undefined;
let table: TableHandle;
let stores: Stores;
let counter: DynamoDbCounter;
let target: HttpTarget;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('xds-rest', [{ id: 'envoy-aws', sha256: hashToken(XDS_TOKEN), scopes: ['xds:envoy-aws-*'] }]);
  table = api.table;
  stores = createDynamoDbStores(table);
  counter = await startDynamoDbCounter(process.env['CROSSFADE_DYNAMODB_ENDPOINT']!);
  process.env['CROSSFADE_DYNAMODB_ENDPOINT'] = counter.endpoint;
  target = await localTarget();

  const register = (version: string, body: unknown) =>
    target.send({ method: 'PUT', path: `/v1/services/checkout/versions/${version}`, headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const awsTarget = (address: string) => ({ cloud: 'aws', cluster: 'eks-use1', namespace: 'checkout', kubernetesService: 'checkout', port: 8080, endpoints: [{ address, port: 8080, zone: 'us-east-1a' }] });
  const gcpTarget = (address: string) => ({ cloud: 'gcp', cluster: 'gke-usc1', namespace: 'checkout', kubernetesService: 'checkout', port: 8080, endpoints: [{ address, port: 8080 }] });
  expect((await register('v1', { targets: [awsTarget('10.0.1.10'), gcpTarget('10.8.0.7')] })).status).toBe(201);
  expect((await register('v2', { targets: [awsTarget('10.0.1.20')] })).status).toBe(201);
  await setSplit({ v1: 90, v2: 10 }, 3);
});

afterAll(async () => {
  await target?.stop();
  await counter?.stop();
  await api?.stop();
});

/** What a deployment step does: a new split in the registry, then the snapshots published. */
async function setSplit(weights: Record<string, number>, revision: number): Promise<void> {
  await stores.registry.putSplit({ service: 'checkout', proxyGroup: 'envoy-aws-use1', weights, revision, updatedAt: new Date().toISOString() });
  const { config } = loadConfig(process.env, { required: true });
  await publishSnapshots({ ...stores, proxyGroups: config.proxyGroups, clock: systemClock, logger: silent, hash: sha256Hex });
}

const node = { id: 'envoy-aws-1', cluster: 'envoy-aws-use1', metadata: { token: XDS_TOKEN }, user_agent_name: 'envoy', locality: { zone: 'us-east-1a' } };
const PATHS: Record<string, string> = { [XdsType.Cluster]: 'clusters', [XdsType.Endpoint]: 'endpoints', [XdsType.Listener]: 'listeners', [XdsType.Route]: 'routes' };

/** A DiscoveryRequest as Envoy's HttpSubscriptionImpl posts it. */
function envoyPoll(typeUrl: string, versionInfo: string, resourceNames: string[] = [], from: object = node): Promise<Answer> {
  const body = { version_info: versionInfo, node: from, resource_names: [...resourceNames].sort(), type_url: typeUrl };
  return target.send({ method: 'POST', path: `/v3/discovery:${PATHS[typeUrl]}`, headers: { 'content-type': 'application/json', host: 'crossfade_xds' }, body: JSON.stringify(body) });
}

interface Response {
  version_info: string;
  type_url: string;
  resources: JsonRecord[];
}

const namesOf = (response: Response) => response.resources.map((r) => String(r['name'] ?? r['cluster_name']));

describe('REST xDS through the local server', () => {
  const applied: Record<string, string> = {};

  it.each(XDS_PUSH_ORDER.map((t) => [t.slice(t.lastIndexOf('.') + 1), t]))('a first %s poll gets 200 and resources that round-trip through Envoy’s protos', async (_kind, typeUrl) => {
    const answer = await envoyPoll(typeUrl, '');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const body = answer.body as Response;
    expect(body).toMatchObject({ type_url: typeUrl, version_info: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(body.resources.length).toBeGreaterThan(0);
    for (const resource of body.resources) expect(roundTripResource(resource)).toEqual(resource);
    const response = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    expect(response.verify(response.fromObject({ version_info: body.version_info, type_url: typeUrl, resources: body.resources.map(encodeResource) }))).toBeNull();
    applied[typeUrl] = body.version_info;
  });

  it('the routes carry the split, and the clusters point EDS back at the function over REST', async () => {
    const routes = (await envoyPoll(XdsType.Route, '', ['crossfade_http'])).body as Response;
    expect(JSON.stringify(routes.resources)).toContain('{"clusters":[{"name":"checkout--v1","weight":90},{"name":"checkout--v2","weight":10}]}');
    const clusters = (await envoyPoll(XdsType.Cluster, '')).body as Response;
    expect(clusters.resources[0]).toMatchObject({ eds_cluster_config: { eds_config: { api_config_source: { api_type: 'REST', cluster_names: ['crossfade_xds'] } } } });
  });

  it('a current poll is 304 with an empty body, after exactly one DynamoDB read, and records the acknowledgement', async () => {
    for (const typeUrl of XDS_PUSH_ORDER) {
      counter.reset();
      const answer = await envoyPoll(typeUrl, applied[typeUrl]!);
      expect(answer.status).toBe(304);
      expect(answer.text).toBe('');
      expect(answer.headers['content-type']).toBeUndefined();
      expect(counter.counts()).toEqual({ GetItem: 1, UpdateItem: 1 });
      expect(counter.reads()).toBe(1);
    }
    counter.reset();
    await envoyPoll(XdsType.Cluster, applied[XdsType.Cluster]!);
    // Once recorded, the same report costs no write at all: the instance remembers what it stored.
    expect(counter.counts()).toEqual({ GetItem: 1 });
    const acks = await stores.snapshots.listAcks('envoy-aws-use1');
    expect(Object.fromEntries(acks.filter((a) => a.nodeId === 'envoy-aws-1').map((a) => [a.typeUrl, a.version]))).toEqual(applied);
  });

  it('GET /v1/services/{service} shows the version each proxy acknowledged beside the one published', async () => {
    const described = await target.send({ method: 'GET', path: '/v1/services/checkout', headers: bearer(tokens.reader) });
    expect(described.status).toBe(200);
    const view = described.body as { proxies: Record<string, { proxy: string; acknowledgedVersion: string | null }[]>; publishedVersions: Record<string, string | null> };
    const published = XDS_PUSH_ORDER.map((t) => applied[t]).join('.');
    expect(view.publishedVersions['envoy-aws-use1']).toBe(published);
    expect(view.proxies['envoy-aws-use1']).toEqual([{ proxy: 'envoy-aws-1', acknowledgedVersion: published }]);
    expect(view.proxies['envoy-gcp-usc1']).toEqual([{ proxy: 'envoy-gcp-1', acknowledgedVersion: null }]);
  });

  it('EDS and RDS answer only the names asked for; CDS and LDS always everything', async () => {
    const endpoints = (await envoyPoll(XdsType.Endpoint, '', ['checkout--v2'])).body as Response;
    expect(namesOf(endpoints)).toEqual(['checkout--v2']);
    expect(endpoints.resources[0]).toMatchObject({ endpoints: [{ locality: { region: 'aws:us-east-1', zone: 'us-east-1a' }, priority: 0, lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.1.20', port_value: 8080 } } } }] }] });
    expect(namesOf((await envoyPoll(XdsType.Endpoint, '', ['checkout--v1', 'checkout--v2'])).body as Response)).toEqual(['checkout--v1', 'checkout--v2']);
    expect(namesOf((await envoyPoll(XdsType.Route, '', ['crossfade_http'])).body as Response)).toEqual(['crossfade_http']);
    expect(namesOf((await envoyPoll(XdsType.Cluster, '', ['checkout--v1'])).body as Response)).toEqual(['checkout--v1', 'checkout--v2']);
  });

  it('after a new split, a node on the old routes gets the new ones; its clusters stay current', async () => {
    await setSplit({ v1: 50, v2: 50 }, 4);
    counter.reset();
    const routes = await envoyPoll(XdsType.Route, applied[XdsType.Route]!, ['crossfade_http']);
    expect(routes.status).toBe(200);
    const body = routes.body as Response;
    expect(body.version_info).not.toBe(applied[XdsType.Route]);
    expect(JSON.stringify(body.resources)).toContain('{"clusters":[{"name":"checkout--v1","weight":50},{"name":"checkout--v2","weight":50}]}');
    // The HEAD, then the manifest buckets and the parts it names (docs/dataplane.md "Incremental publishing").
    expect(counter.counts()).toMatchObject({ GetItem: 1, BatchGetItem: 2 });
    expect((await envoyPoll(XdsType.Cluster, applied[XdsType.Cluster]!)).status).toBe(304);
  });

  it('a poll without a valid node token is 401, a node outside its token’s groups 403; neither reads anything', async () => {
    counter.reset();
    const { metadata: _metadata, ...withoutToken } = node;
    const unauthenticated = await envoyPoll(XdsType.Cluster, '', [], withoutToken);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    expect((await envoyPoll(XdsType.Cluster, '', [], { ...node, metadata: { token: tokens.admin } })).status).toBe(403);
    const elsewhere = await envoyPoll(XdsType.Cluster, '', [], { ...node, id: 'envoy-gcp-1', cluster: 'envoy-gcp-usc1' });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toMatchObject({ error: { code: 'FORBIDDEN', rule: 'scope' } });
    expect(counter.counts()).toEqual({});
  });
});
