/** A proxy group's xDS snapshot from its mesh state (shared/engine/envoy/snapshot.ts). */
import { describe, expect, it } from 'vitest';
import type { ClusterEndpoints, Split } from '../../../../shared/domain/mesh.js';
import {
  buildSnapshot,
  ENVOY_LISTENER_NAME,
  ENVOY_ROUTE_NAME,
  XdsType,
  type GroupMesh,
  type JsonObject,
  type Snapshot,
  type XdsTypeUrl,
} from '../../../../shared/engine/envoy/snapshot.js';
import { validationErrorOf } from '../../../support/errors.js';
import { aws, ep, gcp, registered, sha256 } from '../../../support/mesh-builders.js';

const awsGroup = { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }] } as const;
const gcpGroup = { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [] } as const;


function checkout(split: Split = { v1: 90, v2: 10 }, group: GroupMesh['group'] = awsGroup): GroupMesh {
  return {
    group,
    services: [
      {
        service: 'checkout',
        split,
        versions: [registered('checkout', 'v1', aws(ep('10.0.1.10', 'use1-az1')), gcp(ep('10.8.0.7', 'us-central1-b'))), registered('checkout', 'v2', aws(ep('10.0.1.20', 'use1-az1')), gcp(ep('10.8.0.8', 'us-central1-b')))],
      },
    ],
  };
}

const names = (snapshot: Snapshot, type: XdsTypeUrl): string[] => snapshot.resources[type].map((r) => r.name);
const resource = (snapshot: Snapshot, type: XdsTypeUrl, name: string): JsonObject => {
  const found = snapshot.resources[type].find((r) => r.name === name);
  if (!found) throw new Error(`${type} ${name} not in snapshot`);
  return found.resource;
};
const localities = (snapshot: Snapshot, cluster: string) =>
  (resource(snapshot, XdsType.Endpoint, cluster)['endpoints'] as JsonObject[]).map((l) => ({
    region: (l['locality'] as JsonObject)['region'],
    zone: (l['locality'] as JsonObject)['zone'],
    priority: l['priority'],
    weight: l['load_balancing_weight'],
    addresses: (l['lb_endpoints'] as JsonObject[]).map((e) => ((e['endpoint'] as JsonObject)['address'] as JsonObject)['socket_address']),
  }));
const weights = (snapshot: Snapshot, route: string) => {
  const host = (resource(snapshot, XdsType.Route, route)['virtual_hosts'] as JsonObject[])[0]!;
  const action = ((host['routes'] as JsonObject[])[0]!['route'] as JsonObject)['weighted_clusters'] as JsonObject;
  return action['clusters'];
};

describe('buildSnapshot: names', () => {
  it('a Cluster and a ClusterLoadAssignment <service>--<version> per version; a route and an api_listener per service; one Envoy listener and route', () => {
    const snapshot = buildSnapshot(checkout(), { hash: sha256 });
    expect(snapshot.group).toBe('envoy-aws-use1');
    expect(names(snapshot, XdsType.Cluster)).toEqual(['checkout--v1', 'checkout--v2']);
    expect(names(snapshot, XdsType.Endpoint)).toEqual(['checkout--v1', 'checkout--v2']);
    expect(names(snapshot, XdsType.Route)).toEqual(['checkout', ENVOY_ROUTE_NAME]);
    expect(names(snapshot, XdsType.Listener)).toEqual(['checkout', ENVOY_LISTENER_NAME]);
  });
});

describe('buildSnapshot: resources', () => {
  const snapshot = buildSnapshot(checkout(), { hash: sha256 });

  it('a Cluster is EDS over ADS, with locality-weighted balancing for Envoy', () => {
    expect(resource(snapshot, XdsType.Cluster, 'checkout--v2')).toEqual({
      '@type': XdsType.Cluster,
      name: 'checkout--v2',
      type: 'EDS',
      connect_timeout: '5s',
      lb_policy: 'ROUND_ROBIN',
      eds_cluster_config: { service_name: 'checkout--v2', eds_config: { ads: {}, resource_api_version: 'V3' } },
      common_lb_config: { locality_weighted_lb_config: {} },
    });
  });

  it('the proxyless gRPC route matches the xds:/// authority exactly and carries the split in percent', () => {
    expect(resource(snapshot, XdsType.Route, 'checkout')).toEqual({
      '@type': XdsType.Route,
      name: 'checkout',
      virtual_hosts: [
        {
          name: 'checkout',
          domains: ['checkout'],
          routes: [{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'checkout--v1', weight: 90 }, { name: 'checkout--v2', weight: 10 }] } } }],
        },
      ],
    });
  });

  it('the proxyless gRPC listener is named after the target, takes its route over ADS, and ends with the router', () => {
    expect(resource(snapshot, XdsType.Listener, 'checkout')).toEqual({
      '@type': XdsType.Listener,
      name: 'checkout',
      api_listener: {
        api_listener: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: 'checkout',
          rds: { route_config_name: 'checkout', config_source: { ads: {}, resource_api_version: 'V3' } },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
        },
      },
    });
  });

  it('real Envoys get one socket listener on 0.0.0.0:10000 whose route has a virtual host per service', () => {
    const two = buildSnapshot(
      { group: awsGroup, services: [...checkout().services, { service: 'cart', split: { v7: 100 }, versions: [registered('cart', 'v7', aws(ep('10.0.2.1')))] }] },
      { hash: sha256 },
    );
    const listener = resource(two, XdsType.Listener, ENVOY_LISTENER_NAME);
    expect(listener['address']).toEqual({ socket_address: { address: '0.0.0.0', port_value: 10000 } });
    const hcm = ((listener['filter_chains'] as JsonObject[])[0]!['filters'] as JsonObject[])[0]!['typed_config'] as JsonObject;
    expect(hcm).toMatchObject({ stat_prefix: ENVOY_LISTENER_NAME, codec_type: 'AUTO', strip_any_host_port: true, rds: { route_config_name: ENVOY_ROUTE_NAME, config_source: { ads: {} } } });
    expect((hcm['http_filters'] as JsonObject[]).at(-1)).toMatchObject({ typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } });
    const hosts = resource(two, XdsType.Route, ENVOY_ROUTE_NAME)['virtual_hosts'] as JsonObject[];
    expect(hosts.map((h) => [h['name'], h['domains']])).toEqual([
      ['cart', ['cart', 'cart.*']],
      ['checkout', ['checkout', 'checkout.*']],
    ]);
  });

  it('takes another Envoy listener port when asked', () => {
    const listener = resource(buildSnapshot(checkout(), { hash: sha256, envoyListenerPort: 15001 }), XdsType.Listener, ENVOY_LISTENER_NAME);
    expect(listener['address']).toEqual({ socket_address: { address: '0.0.0.0', port_value: 15001 } });
  });

  it('for Envoys polling the REST function: EDS and RDS over REST, and no api_listeners (gRPC cannot use REST)', () => {
    const rest = buildSnapshot(checkout(), { hash: sha256, configSource: { kind: 'rest', xdsCluster: 'xds.example.com', refreshDelaySeconds: 5, requestTimeoutSeconds: 5 } });
    const restSource = { api_config_source: { api_type: 'REST', transport_api_version: 'V3', cluster_names: ['xds.example.com'], refresh_delay: '5s', request_timeout: '5s' }, resource_api_version: 'V3' };
    expect(resource(rest, XdsType.Cluster, 'checkout--v1')['eds_cluster_config']).toEqual({ service_name: 'checkout--v1', eds_config: restSource });
    expect(names(rest, XdsType.Listener)).toEqual([ENVOY_LISTENER_NAME]);
    expect(names(rest, XdsType.Route)).toEqual([ENVOY_ROUTE_NAME]);
    const hcm = ((resource(rest, XdsType.Listener, ENVOY_LISTENER_NAME)['filter_chains'] as JsonObject[])[0]!['filters'] as JsonObject[])[0]!['typed_config'] as JsonObject;
    expect((hcm['rds'] as JsonObject)['config_source']).toEqual(restSource);
  });
});

describe('buildSnapshot: localities and priorities (a proxy prefers its own cloud and fails over to the other)', () => {
  const cases: { name: string; group: GroupMesh['group']; clusters: ClusterEndpoints[]; expected: ReturnType<typeof localities> }[] = [
    {
      name: 'aws group: aws localities at priority 0, gcp at 1, weight = endpoint count',
      group: awsGroup,
      clusters: [gcp(ep('10.8.0.7', 'us-central1-b')), aws(ep('10.0.1.11', 'use1-az2'), ep('10.0.1.10', 'use1-az1'), ep('10.0.1.12', 'use1-az1'))],
      expected: [
        { region: 'aws:us-east-1', zone: 'use1-az1', priority: 0, weight: 2, addresses: [{ address: '10.0.1.10', port_value: 8080 }, { address: '10.0.1.12', port_value: 8080 }] },
        { region: 'aws:us-east-1', zone: 'use1-az2', priority: 0, weight: 1, addresses: [{ address: '10.0.1.11', port_value: 8080 }] },
        { region: 'gcp:us-central1', zone: 'us-central1-b', priority: 1, weight: 1, addresses: [{ address: '10.8.0.7', port_value: 8080 }] },
      ],
    },
    {
      name: 'gcp group, same endpoints: gcp at priority 0, aws at 1',
      group: gcpGroup,
      clusters: [aws(ep('10.0.1.10', 'use1-az1')), gcp(ep('10.8.0.7', 'us-central1-b'))],
      expected: [
        { region: 'gcp:us-central1', zone: 'us-central1-b', priority: 0, weight: 1, addresses: [{ address: '10.8.0.7', port_value: 8080 }] },
        { region: 'aws:us-east-1', zone: 'use1-az1', priority: 1, weight: 1, addresses: [{ address: '10.0.1.10', port_value: 8080 }] },
      ],
    },
    {
      name: 'aws group, version only in gcp: gcp moves up to priority 0 (no gap)',
      group: awsGroup,
      clusters: [aws(), gcp(ep('10.8.0.7', 'us-central1-b'))],
      expected: [{ region: 'gcp:us-central1', zone: 'us-central1-b', priority: 0, weight: 1, addresses: [{ address: '10.8.0.7', port_value: 8080 }] }],
    },
    {
      name: 'two clusters in the same cloud, region and zone make one locality',
      group: awsGroup,
      clusters: [aws(ep('10.0.1.10', 'use1-az1')), { cloud: 'aws', cluster: 'eks-use1-b', region: 'us-east-1', endpoints: [ep('10.0.9.9', 'use1-az1')] }],
      expected: [{ region: 'aws:us-east-1', zone: 'use1-az1', priority: 0, weight: 2, addresses: [{ address: '10.0.1.10', port_value: 8080 }, { address: '10.0.9.9', port_value: 8080 }] }],
    },
    {
      name: 'an endpoint without a zone: a locality without one',
      group: awsGroup,
      clusters: [aws(ep('10.0.1.10'))],
      expected: [{ region: 'aws:us-east-1', zone: undefined, priority: 0, weight: 1, addresses: [{ address: '10.0.1.10', port_value: 8080 }] }],
    },
  ];

  it.each(cases)('$name', ({ group, clusters, expected }) => {
    const snapshot = buildSnapshot({ group, services: [{ service: 'checkout', split: { v1: 100 }, versions: [registered('checkout', 'v1', ...clusters)] }] }, { hash: sha256 });
    expect(localities(snapshot, 'checkout--v1')).toEqual(expected);
  });

  it('a version without endpoints gets an assignment without localities (the consistency check keeps routes off it)', () => {
    const snapshot = buildSnapshot({ group: awsGroup, services: [{ service: 'checkout', split: { v1: 100 }, versions: [registered('checkout', 'v1', aws())] }] }, { hash: sha256 });
    expect(resource(snapshot, XdsType.Endpoint, 'checkout--v1')).toEqual({ '@type': XdsType.Endpoint, cluster_name: 'checkout--v1' });
  });
});

describe('buildSnapshot: weights', () => {
  const noEndpoints = (split: Split): GroupMesh => ({
    group: awsGroup,
    services: [{ service: 'checkout', split, versions: [registered('checkout', 'v1', aws(ep('10.0.1.10'))), registered('checkout', 'v2', aws())] }],
  });
  const cases: { name: string; mesh: GroupMesh; expected: unknown }[] = [
    { name: '90/10', mesh: checkout({ v1: 90, v2: 10 }), expected: [{ name: 'checkout--v1', weight: 90 }, { name: 'checkout--v2', weight: 10 }] },
    { name: '0/100', mesh: checkout({ v1: 0, v2: 100 }), expected: [{ name: 'checkout--v1', weight: 0 }, { name: 'checkout--v2', weight: 100 }] },
    { name: 'a version at 0% with endpoints stays at weight 0 (gRPC warms its cluster)', mesh: checkout({ v1: 100, v2: 0 }), expected: [{ name: 'checkout--v1', weight: 100 }, { name: 'checkout--v2', weight: 0 }] },
    { name: 'a version at 0% without endpoints is left out', mesh: noEndpoints({ v1: 100, v2: 0 }), expected: [{ name: 'checkout--v1', weight: 100 }] },
    { name: 'a version registered but not in the split is not routed to', mesh: checkout({ v1: 100 }), expected: [{ name: 'checkout--v1', weight: 100 }] },
    { name: 'a version in the split but not registered is routed to (and refused by the consistency check)', mesh: checkout({ v1: 50, v3: 50 }), expected: [{ name: 'checkout--v1', weight: 50 }, { name: 'checkout--v3', weight: 50 }] },
  ];

  it.each(cases)('$name', ({ mesh, expected }) => {
    const snapshot = buildSnapshot(mesh, { hash: sha256 });
    expect(weights(snapshot, 'checkout')).toEqual(expected);
    expect(weights(snapshot, ENVOY_ROUTE_NAME)).toEqual(expected);
  });

  it.each([
    [{ v1: 90, v2: 20 }, 'services.checkout.split'],
    [{ v1: 50.5, v2: 49.5 }, 'services.checkout.split.v1'],
    [{}, 'services.checkout.split'],
  ])('refuses the split %j, naming %s', (split, field) => {
    expect(validationErrorOf(() => buildSnapshot(checkout(split), { hash: sha256 })).field).toBe(field);
  });

  it('refuses a version filed under another service', () => {
    const mesh: GroupMesh = { group: awsGroup, services: [{ service: 'checkout', split: { v1: 100 }, versions: [registered('cart', 'v1', aws(ep('10.0.1.10')))] }] };
    expect(validationErrorOf(() => buildSnapshot(mesh, { hash: sha256 })).field).toBe('services.checkout.versions');
  });
});

describe('buildSnapshot: versions', () => {
  const base = buildSnapshot(checkout(), { hash: sha256 });
  const changed = (a: Snapshot, b: Snapshot): XdsTypeUrl[] => (Object.keys(a.versions) as XdsTypeUrl[]).filter((t) => a.versions[t] !== b.versions[t]);

  it('are the first 16 hex digits of the sha256 of the type’s canonical JSON', () => {
    for (const [type, version] of Object.entries(base.versions)) {
      expect(version).toBe(sha256(JSON.stringify(base.resources[type as XdsTypeUrl].map((r) => r.resource))).slice(0, 16));
      expect(version).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('are the same whatever order services, versions, clusters, endpoints and split keys come in', () => {
    const cart = { service: 'cart', split: { v7: 100 }, versions: [registered('cart', 'v7', aws(ep('10.0.2.1')))] };
    const mesh = checkout();
    const service = mesh.services[0]!;
    const inOrder = buildSnapshot({ group: awsGroup, services: [cart, service] }, { hash: sha256 });
    const reordered: GroupMesh = {
      group: awsGroup,
      services: [
        {
          service: 'checkout',
          split: { v2: 10, v1: 90 },
          versions: [...service.versions].reverse().map((v) => ({ ...v, clusters: [...v.clusters].reverse().map((c) => ({ ...c, endpoints: [...c.endpoints].reverse() })) })),
        },
        cart,
      ],
    };
    expect(buildSnapshot(reordered, { hash: sha256 })).toEqual(inOrder);
  });

  const changes: { name: string; mesh: GroupMesh; types: XdsTypeUrl[] }[] = [
    { name: 'nothing changed: no version changes', mesh: checkout(), types: [] },
    { name: 'a new split: only the routes', mesh: checkout({ v1: 50, v2: 50 }), types: [XdsType.Route] },
    {
      name: 'an endpoint moved: only the endpoints',
      mesh: { ...checkout(), services: [{ ...checkout().services[0]!, versions: [checkout().services[0]!.versions[0]!, registered('checkout', 'v2', aws(ep('10.0.1.21', 'use1-az1')), gcp(ep('10.8.0.8', 'us-central1-b')))] }] },
      types: [XdsType.Endpoint],
    },
    {
      name: 'a new version registered (not yet in the split): clusters and endpoints, not routes',
      mesh: { ...checkout(), services: [{ ...checkout().services[0]!, versions: [...checkout().services[0]!.versions, registered('checkout', 'v3', aws(ep('10.0.1.30')))] }] },
      types: [XdsType.Cluster, XdsType.Endpoint],
    },
    { name: 'another group in the other cloud: only the endpoints (priorities)', mesh: checkout(undefined, { ...gcpGroup, name: 'envoy-aws-use1' }), types: [XdsType.Endpoint] },
  ];

  it.each(changes)('$name', ({ mesh, types }) => {
    expect(changed(base, buildSnapshot(mesh, { hash: sha256 }))).toEqual(types);
  });

  it('a snapshot is frozen', () => {
    expect(Object.isFrozen(base)).toBe(true);
    expect(Object.isFrozen(base.resources[XdsType.Cluster][0]!.resource)).toBe(true);
    expect(() => ((base.versions as Record<string, string>)[XdsType.Cluster] = 'x')).toThrow(TypeError);
  });
});
