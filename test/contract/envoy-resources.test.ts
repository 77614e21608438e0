/**
 * Every resource crossfade publishes is a valid Envoy message: its proto3 JSON goes through the
 * Envoy protos shipped with @grpc/grpc-js-xds (protobufjs) and comes back unchanged, so no field is
 * misspelt, misplaced or silently dropped. There is no Envoy binary here (docs/dataplane.md), so
 * this is the contract the real proxies' parsers are held to.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeResource, encodeResource, roundTripResource } from '../../shared/adapters/xds/proto.js';
import type { ClusterEndpoints, RegisteredVersion } from '../../shared/domain/mesh.js';
import { buildSnapshot, XDS_PUSH_ORDER, XdsType, type GroupMesh, type SnapshotOptions } from '../../shared/engine/envoy/snapshot.js';
import { validationErrorOf } from '../support/errors.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const cluster = (cloud: 'aws' | 'gcp', address: string, zone: string | null): ClusterEndpoints =>
  cloud === 'aws'
    ? { cloud, cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address, port: 8080, zone }] }
    : { cloud, cluster: 'gke-usc1', region: 'us-central1', endpoints: [{ address, port: 9090, zone }] };
const registered = (service: string, version: string, clusters: ClusterEndpoints[]): RegisteredVersion => ({ service, version, clusters, registeredAt: '2025-01-01T00:00:00.000Z', registeredBy: 'test', revision: 1 });

const mesh: GroupMesh = {
  group: { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [] },
  services: [
    {
      service: 'checkout',
      split: { 'v1.4.2': 95, 'v1.5.0-rc_1': 5, v0: 0 },
      versions: [
        registered('checkout', 'v1.4.2', [cluster('aws', '10.0.1.10', 'use1-az1'), cluster('gcp', '10.8.0.7', 'us-central1-b')]),
        registered('checkout', 'v1.5.0-rc_1', [cluster('gcp', 'fd00::7', null)]),
        registered('checkout', 'v0', [cluster('aws', '10.0.1.11', null)]),
      ],
    },
    { service: 'cart', split: { v7: 100 }, versions: [registered('cart', 'v7', [cluster('aws', '10.0.2.1', 'use1-az2')])] },
  ],
};

const flavours: [string, SnapshotOptions][] = [
  ['ADS (Envoy over gRPC, proxyless gRPC)', { hash: sha256 }],
  ['REST (Envoy polling the function)', { hash: sha256, configSource: { kind: 'rest', xdsCluster: 'xds.example.com', refreshDelaySeconds: 5, requestTimeoutSeconds: 7 }, envoyListenerPort: 15001 }],
];

describe.each(flavours)('snapshot resources round-trip through Envoy’s protos: %s', (_name, options) => {
  const snapshot = buildSnapshot(mesh, options);
  const resources = XDS_PUSH_ORDER.flatMap((type) => snapshot.resources[type].map((r) => [`${type.slice(type.lastIndexOf('.') + 1)} ${r.name}`, r.resource] as const));

  it('has a resource of every type', () => {
    for (const type of XDS_PUSH_ORDER) expect(snapshot.resources[type].length).toBeGreaterThan(0);
  });

  it.each(resources)('%s', (_label, resource) => {
    expect(roundTripResource(resource)).toEqual(resource);
  });
});

describe('the proto3-JSON bridge', () => {
  const route = { '@type': XdsType.Route, name: 'r', virtual_hosts: [{ name: 'r', domains: ['r'], routes: [{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'a', weight: 1 }] } } }] }] };

  it('packs into an Any of the resource’s type, bytes that decode back', () => {
    const any = encodeResource(route);
    expect(any.type_url).toBe(XdsType.Route);
    expect(any.value.length).toBeGreaterThan(0);
    expect(decodeResource(any)).toEqual(route);
  });

  it('reads lowerCamelCase as protojson writes it, and gives back Envoy’s snake_case', () => {
    const camel = { '@type': XdsType.Route, name: 'r', virtualHosts: [{ name: 'r', domains: ['r'], routes: [{ match: { prefix: '/' }, route: { weightedClusters: { clusters: [{ name: 'a', weight: 1 }] } } }] }] };
    expect(roundTripResource(camel)).toEqual(route);
  });

  it.each([
    ['a misspelt field', { '@type': XdsType.Cluster, name: 'c', conect_timeout: '1s' }, '$.conect_timeout', 'proto-field'],
    ['an enum name that does not exist', { '@type': XdsType.Cluster, name: 'c', type: 'EDSS' }, '$.type', 'proto-enum'],
    ['a Duration that is not a duration', { '@type': XdsType.Cluster, name: 'c', connect_timeout: 5 }, '$.connect_timeout', 'proto-duration'],
    ['an Any without @type', { '@type': XdsType.Listener, name: 'l', api_listener: { api_listener: { stat_prefix: 'x' } } }, '$.api_listener.api_listener.@type', 'proto-type'],
    ['an @type the protos do not have', { '@type': 'type.googleapis.com/envoy.config.nope.v3.Nope', name: 'x' }, '$', 'proto-type'],
  ])('refuses %s instead of dropping it (%s)', (_name, resource, field, rule) => {
    const error = validationErrorOf(() => encodeResource(resource));
    expect([error.field, error.rule]).toEqual([field, rule]);
  });

  it('keeps wrappers bare, Durations as strings and explicit zeros', () => {
    const assignment = { '@type': XdsType.Endpoint, cluster_name: 'c', endpoints: [{ priority: 0, load_balancing_weight: 3, lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 80 } } } }] }] };
    expect(roundTripResource(assignment)).toEqual(assignment);
    const timeouts = { '@type': XdsType.Cluster, name: 'c', connect_timeout: '0.250s' };
    expect(roundTripResource(timeouts)).toEqual({ ...timeouts, connect_timeout: '0.250s' });
  });

  it('keeps Struct metadata as plain JSON', () => {
    const withMetadata = { '@type': XdsType.Cluster, name: 'c', metadata: { filter_metadata: { crossfade: { version: 'v2', weight: 10, canary: true, owners: ['a', null], nested: { cloud: 'gcp' } } } } };
    expect(roundTripResource(withMetadata)).toEqual(withMetadata);
  });
});
