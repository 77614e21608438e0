/** The stateless REST-xDS answer, as Envoy polls it (shared/engine/envoy/discovery.ts). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ClusterEndpoints, ProxyGroup, RegisteredVersion, Split } from '../../../../shared/domain/mesh.js';
import { answerDiscovery, discover, DISCOVERY_PATH_TYPES, groupOfNode, parseDiscoveryRequest, type DiscoveryAnswer } from '../../../../shared/engine/envoy/discovery.js';
import { buildSnapshot, ENVOY_LISTENER_NAME, ENVOY_ROUTE_NAME, XdsType, type Snapshot } from '../../../../shared/engine/envoy/snapshot.js';
import { validationErrorOf } from '../../../support/errors.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const awsGroup = { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }] } as const;
const aws = (address: string): ClusterEndpoints => ({ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address, port: 8080, zone: null }] });
const registered = (service: string, version: string, address: string): RegisteredVersion => ({ service, version, clusters: [aws(address)], registeredAt: '2025-01-01T00:00:00.000Z', registeredBy: 'test', revision: 1 });
const snapshotWith = (split: Split): Snapshot =>
  buildSnapshot(
    {
      group: awsGroup,
      services: [
        { service: 'checkout', split, versions: [registered('checkout', 'v1', '10.0.1.10'), registered('checkout', 'v2', '10.0.1.20')] },
        { service: 'cart', split: { v7: 100 }, versions: [registered('cart', 'v7', '10.0.2.1')] },
      ],
    },
    { hash: sha256 },
  );
const snapshot = snapshotWith({ v1: 90, v2: 10 });
const node = { id: 'envoy-aws-1', cluster: 'edge', metadata: { zone: 'use1-az1' } };

/** A request as Envoy's REST subscription posts it: snake_case, sorted names, its node. */
const envoyPoll = (type_url: string, version_info = '', resource_names: string[] = []) => ({ node, type_url, version_info, resource_names });
const namesIn = (answer: DiscoveryAnswer): string[] => {
  if (answer.status !== 200) throw new Error(`expected 200, got ${answer.status}`);
  return answer.body.resources.map((r) => String(r['name'] ?? r['cluster_name']));
};

describe('parseDiscoveryRequest', () => {
  it('reads snake_case (Envoy) and lowerCamelCase (protojson) alike', () => {
    const snake = { type_url: XdsType.Endpoint, version_info: 'abc', resource_names: ['checkout--v1'], node: { id: 'n1', cluster: 'edge' }, response_nonce: '' };
    const camel = { typeUrl: XdsType.Endpoint, versionInfo: 'abc', resourceNames: ['checkout--v1'], node: { id: 'n1', cluster: 'edge' }, responseNonce: '' };
    const expected = { typeUrl: XdsType.Endpoint, versionInfo: 'abc', resourceNames: ['checkout--v1'], node: { id: 'n1', cluster: 'edge' } };
    expect(parseDiscoveryRequest(snake)).toEqual(expected);
    expect(parseDiscoveryRequest(camel)).toEqual(expected);
  });

  it('a first poll has no version and may have no names or node', () => {
    expect(parseDiscoveryRequest({ type_url: XdsType.Cluster })).toEqual({ typeUrl: XdsType.Cluster, versionInfo: '', resourceNames: [], node: undefined });
  });

  it.each([
    ['an unknown type_url', { type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret' }, 'type_url'],
    ['no type_url', { version_info: '' }, 'type_url'],
    ['a v2 type_url', { type_url: 'type.googleapis.com/envoy.api.v2.Cluster' }, 'type_url'],
    ['a version that is not a string', { type_url: XdsType.Cluster, version_info: 3 }, 'version_info'],
    ['names that are not strings', { type_url: XdsType.Cluster, resource_names: [1] }, 'resource_names'],
    ['names that are not a list', { typeUrl: XdsType.Cluster, resourceNames: 'a' }, 'resource_names'],
    ['a node that is not an object', { type_url: XdsType.Cluster, node: 'n1' }, 'node'],
    ['a node id that is not a string', { type_url: XdsType.Cluster, node: { id: 7 } }, 'node.id'],
    ['a body that is not an object', [XdsType.Cluster], 'body'],
  ])('refuses %s, naming %s', (_name, body, field) => {
    expect(validationErrorOf(() => parseDiscoveryRequest(body)).field).toBe(field);
  });
});

describe('discover: 200 or 304', () => {
  const cases: { name: string; body: object; expected: DiscoveryAnswer['status']; names?: string[] }[] = [
    { name: 'CDS, first poll: every cluster', body: envoyPoll(XdsType.Cluster), expected: 200, names: ['cart--v7', 'checkout--v1', 'checkout--v2'] },
    { name: 'CDS at the current version: 304', body: envoyPoll(XdsType.Cluster, snapshot.versions[XdsType.Cluster]), expected: 304 },
    { name: 'CDS at an older version: every cluster', body: envoyPoll(XdsType.Cluster, '0123456789abcdef'), expected: 200, names: ['cart--v7', 'checkout--v1', 'checkout--v2'] },
    { name: 'LDS ignores names: the full set', body: envoyPoll(XdsType.Listener, '', ['cart']), expected: 200, names: ['cart', 'checkout', ENVOY_LISTENER_NAME] },
    { name: 'CDS ignores names: the full set', body: envoyPoll(XdsType.Cluster, '', ['cart--v7']), expected: 200, names: ['cart--v7', 'checkout--v1', 'checkout--v2'] },
    { name: 'EDS is filtered by names', body: envoyPoll(XdsType.Endpoint, '', ['checkout--v2']), expected: 200, names: ['checkout--v2'] },
    { name: 'EDS names not in the snapshot: none of them', body: envoyPoll(XdsType.Endpoint, '', ['gone--v0']), expected: 200, names: [] },
    { name: 'EDS without names: every assignment', body: envoyPoll(XdsType.Endpoint), expected: 200, names: ['cart--v7', 'checkout--v1', 'checkout--v2'] },
    { name: 'RDS is filtered by names', body: envoyPoll(XdsType.Route, '', [ENVOY_ROUTE_NAME]), expected: 200, names: [ENVOY_ROUTE_NAME] },
    { name: 'RDS at the current version: 304', body: envoyPoll(XdsType.Route, snapshot.versions[XdsType.Route], [ENVOY_ROUTE_NAME]), expected: 304 },
    { name: 'lowerCamelCase at the current version: 304', body: { typeUrl: XdsType.Endpoint, versionInfo: snapshot.versions[XdsType.Endpoint], resourceNames: ['cart--v7'] }, expected: 304 },
  ];

  it.each(cases)('$name', ({ body, expected, names }) => {
    const answer = discover(body, snapshot);
    expect(answer.status).toBe(expected);
    if (names) expect(namesIn(answer)).toEqual(names);
  });

  it('a 200 is a DiscoveryResponse: the type’s version, its type URL, the resources with their @type, and no nonce', () => {
    const answer = discover(envoyPoll(XdsType.Endpoint, '', ['cart--v7']), snapshot);
    expect(answer).toEqual({
      status: 200,
      body: {
        version_info: snapshot.versions[XdsType.Endpoint],
        type_url: XdsType.Endpoint,
        resources: [snapshot.resources[XdsType.Endpoint].find((r) => r.name === 'cart--v7')!.resource],
      },
    });
    expect(JSON.parse(JSON.stringify(answer.status === 200 && answer.body)).resources[0]['@type']).toBe(XdsType.Endpoint);
  });

  it('after a split changes, an Envoy at the old versions gets the routes again and 304 for everything else', () => {
    const next = snapshotWith({ v1: 50, v2: 50 });
    const polls = [XdsType.Cluster, XdsType.Endpoint, XdsType.Listener, XdsType.Route].map((type) => [type, answerDiscovery(parseDiscoveryRequest(envoyPoll(type, snapshot.versions[type])), next).status]);
    expect(polls).toEqual([
      [XdsType.Cluster, 304],
      [XdsType.Endpoint, 304],
      [XdsType.Listener, 304],
      [XdsType.Route, 200],
    ]);
  });

  it('maps each REST path to its type', () => {
    expect(DISCOVERY_PATH_TYPES).toEqual({ clusters: XdsType.Cluster, endpoints: XdsType.Endpoint, listeners: XdsType.Listener, routes: XdsType.Route });
  });
});

describe('groupOfNode', () => {
  const groups: ProxyGroup[] = [
    awsGroup,
    { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [{ nodeId: 'envoy-gcp-1' }] },
    { name: 'haproxy-edge', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [] },
  ];
  it.each([
    ['a listed node id', { id: 'envoy-gcp-1', cluster: '' }, 'envoy-gcp-usc1'],
    ['an unlisted id whose node.cluster names a group', { id: 'envoy-7f3a', cluster: 'envoy-aws-use1' }, 'envoy-aws-use1'],
    ['a listed id wins over node.cluster', { id: 'envoy-gcp-1', cluster: 'envoy-aws-use1' }, 'envoy-gcp-usc1'],
    ['node.cluster naming an HAProxy group', { id: 'x', cluster: 'haproxy-edge' }, undefined],
    ['an unknown node', { id: 'stranger', cluster: 'edge' }, undefined],
    ['an empty node', { id: '', cluster: '' }, undefined],
  ])('%s', (_name, node, group) => {
    expect(groupOfNode(node, groups)).toBe(group);
  });
});
