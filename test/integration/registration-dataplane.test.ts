/**
 * What registration does to the data plane, on real parts: the local stack on DynamoDB Local, one
 * real HAProxy in front of metered backends, and two Envoy proxy groups that list no nodes (their
 * published snapshots are all there is to read). canary-rig.ts builds it.
 *
 * - Registering a version programs the proxies at once: HAProxy serves the first version to every
 *   request with no reconciliation, and a later one only once a deployment gives it traffic.
 * - One service cannot stop every canary: a registration that would poison every snapshot is
 *   refused, and a service that poisons them anyway (written past registration) is left out of the
 *   snapshots and named, while another service's canary runs to the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableHandle, type TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { haproxyBackendName } from '../../shared/adapters/haproxy/haproxy-router.js';
import { carriesSplit, publishedSplit } from '../../shared/engine/envoy/published-split.js';
import { XdsType } from '../../shared/engine/envoy/snapshot.js';
import { backendsOf, CLUSTER, countOneTurn, FINISHED, pollUntil, PROXY_GROUP, settled, startCanaryRig, type CanaryRig, type StatusDoc } from '../support/canary-rig.js';
import { serversOf } from '../support/haproxy.js';
import { scanTable } from '../support/store-backends.js';

const ENVOY_GROUPS = ['envoy-use1-a', 'envoy-use1-b'];
/** HAProxy's admin state of a server in drain (srv_admin_state bit 0x08, "DRAIN"). */
const ADMIN_DRAIN = 0x08;

let rig: CanaryRig;
let table: TableHandle;

beforeAll(async () => {
  rig = await startCanaryRig({
    services: [
      { name: 'web', versions: [{ version: 'v1' }, { version: 'v2' }] },
      { name: 'checkout', versions: [{ version: 'v1' }, { version: 'v2' }] },
    ],
    prometheus: [],
    templates: [],
    waitMs: 500,
    retryMs: 300,
    envoyGroups: ENVOY_GROUPS,
  });
  const env = rig.env;
  table = createTableHandle(
    { region: 'us-east-1', endpoint: env['CROSSFADE_DYNAMODB_ENDPOINT'], credentials: { accessKeyId: env['AWS_ACCESS_KEY_ID']!, secretAccessKey: env['AWS_SECRET_ACCESS_KEY']! } },
    env['CROSSFADE_TABLE']!,
  );
}, 120_000);

afterAll(async () => {
  await rig?.stop();
}, 60_000);

interface Registered {
  outcome: string;
  proxies: Record<string, string>;
}

/** PUT of `version` of `service` with its two metered backends as endpoints. */
function register(service: string, version: string) {
  const endpoints = backendsOf(rig.backends.get(service)!, version).map((b) => ({ address: '127.0.0.1', port: b.port }));
  return rig.call<Registered>('PUT', `/v1/services/${service}/versions/${version}`, {
    targets: [{ cloud: CLUSTER.cloud, cluster: CLUSTER.name, namespace: service, kubernetesService: `${service}-${version}`, port: 8080, endpoints }],
  });
}

const EVERY_GROUP_PROGRAMMED = { [PROXY_GROUP]: 'programmed', [ENVOY_GROUPS[0]!]: 'unverified', [ENVOY_GROUPS[1]!]: 'unverified' };

describe('registration programs the proxies at once', () => {
  it('v1 is served to every request as soon as it is registered; v2 at 0% serves none; deregistered, its servers drain', async () => {
    const first = await register('web', 'v1');
    expect(first.status).toBe(201);
    expect(first.body.proxies).toEqual(EVERY_GROUP_PROGRAMMED);
    // No reconciliation: what HAProxy serves now is what registration put there.
    const one = await countOneTurn(rig, 'web', 1);
    expect(one.turn).toBeGreaterThan(0);
    expect(one.counts).toEqual({ v1: one.turn });

    const described = await rig.call<{ weights: Record<string, unknown>; verification: Record<string, unknown> }>('GET', '/v1/services/web');
    expect(described.body.weights[PROXY_GROUP]).toEqual({ v1: 100 });
    expect(described.body.verification).toEqual({
      [PROXY_GROUP]: { state: 'converged' },
      [ENVOY_GROUPS[0]!]: { state: 'unverified', reason: expect.stringContaining('lists no Envoy node ids') },
      [ENVOY_GROUPS[1]!]: { state: 'unverified', reason: expect.stringContaining('lists no Envoy node ids') },
    });

    const second = await register('web', 'v2');
    expect(second.status).toBe(201);
    expect(second.body.proxies).toEqual(EVERY_GROUP_PROGRAMMED);
    const v2Servers = backendsOf(rig.backends.get('web')!, 'v2').map((b) => `v2_127.0.0.1_${b.port}`);
    const withV2 = await serversOf(rig.haproxy.adminPort, haproxyBackendName('web'));
    for (const server of v2Servers) expect(withV2[server]).toEqual({ weight: 0, admin: 0 });
    const two = await countOneTurn(rig, 'web', 1);
    expect(two.counts).toEqual({ v1: two.turn });

    const deregistered = await rig.call<Registered>('DELETE', '/v1/services/web/versions/v2');
    expect(deregistered.status).toBe(200);
    expect(deregistered.body).toMatchObject({ outcome: 'deregistered', proxies: EVERY_GROUP_PROGRAMMED });
    const after = await serversOf(rig.haproxy.adminPort, haproxyBackendName('web'));
    for (const server of v2Servers) expect(after[server] === undefined || (after[server].admin & ADMIN_DRAIN) !== 0, `${server}: ${JSON.stringify(after[server])}`).toBe(true);
    const three = await countOneTurn(rig, 'web', 1);
    expect(three.counts).toEqual({ v1: three.turn });
  }, 60_000);
});

describe('one service cannot stop every canary', () => {
  it('refuses a registration that repeats an endpoint, writing nothing', async () => {
    const before = await scanTable(table);
    const endpoint = { address: '10.60.0.9', port: 8080 };
    const target = (cluster: string, endpoints: unknown[]) => ({ cloud: CLUSTER.cloud, cluster, namespace: 'legacy', kubernetesService: 'legacy', port: 8080, endpoints });
    const answer = await rig.call<{ error: Record<string, unknown> }>('PUT', '/v1/services/legacy/versions/v9', { targets: [target(CLUSTER.name, [endpoint, endpoint])] });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'targets[0].endpoints[1]', rule: 'endpoint-unique', message: expect.stringContaining('10.60.0.9:8080 is the same endpoint as targets[0].endpoints[0]') });
    expect(await scanTable(table)).toEqual(before);
  });

  it("with a service that fails the snapshot check in the registry, another service's 10/50/100 canary succeeds, published in every Envoy group; the culprit is named", async () => {
    // Written straight through the registry port, as a registry from before the rule (or a hand edit) holds it.
    const { registry } = createDynamoDbStores(table);
    const endpoints = [{ address: '10.60.0.9', port: 8080, zone: null }];
    await registry.putVersion({
      service: 'legacy',
      version: 'v9',
      clusters: [
        { cloud: 'aws', cluster: CLUSTER.name, region: CLUSTER.region, endpoints },
        { cloud: 'gcp', cluster: 'gke-usc1', region: 'us-central1', endpoints },
      ],
      registeredAt: new Date().toISOString(),
      registeredBy: 'hand',
      revision: 1,
    });
    for (const group of ENVOY_GROUPS) await registry.putSplit({ service: 'legacy', proxyGroup: group, weights: { v9: 100 }, revision: 1, updatedAt: new Date().toISOString() });

    expect((await register('checkout', 'v1')).status).toBe(201);
    expect((await register('checkout', 'v2')).status).toBe(201);
    const created = await rig.call<StatusDoc>('POST', '/v1/deployments', { service: 'checkout', canary: { version: 'v2' }, steps: [{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }] });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const done = await pollUntil(rig, created.body.id, (d) => FINISHED.includes(d.status), 60_000);
    expect(await settled(rig, created.body.id, 30_000)).toBe('succeeded');
    expect(done).toMatchObject({ status: 'SUCCEEDED', weights: { aws: { v1: 0, v2: 100 } } });

    for (const group of ENVOY_GROUPS) {
      const head = await createDynamoDbStores(table).parts.head(group);
      const routes = await createDynamoDbStores(table).parts.resources(head!, XdsType.Route);
      expect(carriesSplit(publishedSplit(routes, 'checkout'), 'checkout', { v1: 0, v2: 100 }), group).toBe(true);
      expect(publishedSplit(routes, 'legacy'), group).toBeUndefined();
    }
    const counted = await countOneTurn(rig, 'checkout', 1);
    expect(counted.counts).toEqual({ v2: counted.turn });

    const isolation = { rule: 'duplicate-endpoint', field: 'ClusterLoadAssignment/legacy--v9', reason: expect.stringContaining('endpoint 10.60.0.9:8080 appears more than once') };
    const described = await rig.call<{ isolated: unknown }>('GET', '/v1/services/legacy');
    expect(described.body.isolated).toEqual({ [ENVOY_GROUPS[0]!]: isolation, [ENVOY_GROUPS[1]!]: isolation });
    expect((await rig.call<Record<string, unknown>>('GET', '/v1/services/checkout')).body).not.toHaveProperty('isolated');

    const reconciled = await rig.call<{
      services: { service: string; findings: { kind: string }[] }[];
      envoyGroups: { proxyGroup: string; findings: { kind: string; service?: string }[] }[];
      unverified: { proxyGroup: string }[];
      summary: Record<string, number>;
    }>('POST', '/v1/reconcile', { service: 'legacy' });
    expect(reconciled.status).toBe(200);
    const legacy = reconciled.body.services.find((s) => s.service === 'legacy')!;
    expect(legacy.findings).toEqual(ENVOY_GROUPS.map((proxyGroup) => ({ kind: 'isolated', proxyGroup, rule: 'duplicate-endpoint', reason: isolation.reason })));
    for (const group of reconciled.body.envoyGroups) expect(group.findings).toContainEqual({ kind: 'service-isolated', service: 'legacy', rule: 'duplicate-endpoint', reason: isolation.reason });
    expect(reconciled.body.unverified.map((u) => u.proxyGroup)).toEqual(ENVOY_GROUPS);
    expect(reconciled.body.summary).toMatchObject({ isolated: 1, unverifiedGroups: 2 });
  }, 90_000);
});
