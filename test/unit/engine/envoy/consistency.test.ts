/** Is a snapshot whole enough to publish? (shared/engine/envoy/consistency.ts) */
import { describe, expect, it } from 'vitest';
import type { Split } from '../../../../shared/domain/mesh.js';
import { assertConsistent, ConsistencyRule, snapshotProblems, type ConsistencyRuleName } from '../../../../shared/engine/envoy/consistency.js';
import {
  assembleSnapshot,
  buildSnapshot,
  ENVOY_LISTENER_NAME,
  ENVOY_ROUTE_NAME,
  XdsType,
  type ConfigSourceFlavour,
  type GroupMesh,
  type Snapshot,
  type XdsResource,
  type XdsTypeUrl,
} from '../../../../shared/engine/envoy/snapshot.js';
import { validationErrorOf } from '../../../support/errors.js';
import { aws, ep, gcp, registered, sha256 } from '../../../support/mesh-builders.js';

const awsGroup = { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] } as const;
const mesh = (split: Split = { v1: 90, v2: 10 }, v2 = [aws(ep('10.0.1.20')), gcp(ep('10.8.0.8'))]): GroupMesh => ({
  group: awsGroup,
  services: [
    { service: 'checkout', split, versions: [registered('checkout', 'v1', aws(ep('10.0.1.10')), gcp(ep('10.8.0.7'))), registered('checkout', 'v2', ...v2)] },
    { service: 'cart', split: { v7: 100 }, versions: [registered('cart', 'v7', gcp(ep('10.8.1.1')))] },
  ],
});
const rest: ConfigSourceFlavour = { kind: 'rest', xdsCluster: 'xds', refreshDelaySeconds: 5, requestTimeoutSeconds: 5 };

/** The snapshot with `type`'s resources changed by `edit` (on a mutable copy), versions recomputed. */
type Draft = { name: string; resource: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
function edited(snapshot: Snapshot, type: XdsTypeUrl, edit: (resources: Draft[]) => Draft[] | void): Snapshot {
  const copy = structuredClone(snapshot.resources) as Record<XdsTypeUrl, Draft[]>;
  copy[type] = edit(copy[type]) ?? copy[type];
  return assembleSnapshot(snapshot.group, copy as Record<XdsTypeUrl, XdsResource[]>, sha256);
}
const find = (resources: Draft[], name: string): Draft => resources.find((r) => r.name === name)!;

describe('snapshotProblems: what buildSnapshot makes is consistent', () => {
  it.each([
    ['90/10 over ADS', buildSnapshot(mesh(), { hash: sha256 })],
    ['a canary at 0% with endpoints', buildSnapshot(mesh({ v1: 100, v2: 0 }), { hash: sha256 })],
    ['a canary at 0% without endpoints', buildSnapshot(mesh({ v1: 100, v2: 0 }, [aws()]), { hash: sha256 })],
    ['REST flavour', buildSnapshot(mesh(), { hash: sha256, configSource: rest })],
    ['no services at all', buildSnapshot({ group: awsGroup, services: [] }, { hash: sha256 })],
  ])('%s', (_name, snapshot) => {
    expect(snapshotProblems(snapshot)).toEqual([]);
    expect(() => assertConsistent(snapshot)).not.toThrow();
  });
});

describe('snapshotProblems: each problem named, with its resource', () => {
  const good = buildSnapshot(mesh(), { hash: sha256 });
  const cases: { name: string; snapshot: () => Snapshot; rule: ConsistencyRuleName; type: XdsTypeUrl; resource: string }[] = [
    {
      name: 'a Cluster whose ClusterLoadAssignment is missing',
      snapshot: () => edited(good, XdsType.Endpoint, (r) => r.filter((x) => x.name !== 'checkout--v2')),
      rule: ConsistencyRule.EdsMissing,
      type: XdsType.Cluster,
      resource: 'checkout--v2',
    },
    {
      name: 'a ClusterLoadAssignment no Cluster refers to',
      snapshot: () => edited(good, XdsType.Endpoint, (r) => [...r, { name: 'orphan', resource: { '@type': XdsType.Endpoint, cluster_name: 'orphan' } }]),
      rule: ConsistencyRule.EdsUnreferenced,
      type: XdsType.Endpoint,
      resource: 'orphan',
    },
    {
      name: 'an api_listener whose RouteConfiguration is missing',
      snapshot: () => edited(good, XdsType.Route, (r) => r.filter((x) => x.name !== 'cart')),
      rule: ConsistencyRule.RdsMissing,
      type: XdsType.Listener,
      resource: 'cart',
    },
    {
      name: 'a socket listener whose RouteConfiguration is missing',
      snapshot: () => edited(good, XdsType.Route, (r) => r.filter((x) => x.name !== ENVOY_ROUTE_NAME)),
      rule: ConsistencyRule.RdsMissing,
      type: XdsType.Listener,
      resource: ENVOY_LISTENER_NAME,
    },
    {
      name: 'a RouteConfiguration no Listener refers to',
      snapshot: () => edited(good, XdsType.Listener, (r) => r.filter((x) => x.name !== 'cart')),
      rule: ConsistencyRule.RdsUnreferenced,
      type: XdsType.Route,
      resource: 'cart',
    },
    {
      name: 'a route to a version that is not registered',
      snapshot: () => buildSnapshot(mesh({ v1: 50, v3: 50 }), { hash: sha256 }),
      rule: ConsistencyRule.RouteClusterMissing,
      type: XdsType.Route,
      resource: 'checkout',
    },
    {
      name: 'a route sending traffic to a version without endpoints',
      snapshot: () => buildSnapshot(mesh({ v1: 90, v2: 10 }, [aws()]), { hash: sha256 }),
      rule: ConsistencyRule.RouteClusterEmpty,
      type: XdsType.Route,
      resource: 'checkout',
    },
    {
      name: 'weights summing to 0',
      snapshot: () =>
        edited(good, XdsType.Route, (r) => {
          for (const c of find(r, 'checkout').resource['virtual_hosts'][0].routes[0].route.weighted_clusters.clusters) c.weight = 0;
        }),
      rule: ConsistencyRule.RouteWeightZero,
      type: XdsType.Route,
      resource: 'checkout',
    },
    {
      name: 'a name twice',
      snapshot: () => edited(good, XdsType.Cluster, (r) => [...r, find(r, 'cart--v7')]),
      rule: ConsistencyRule.DuplicateName,
      type: XdsType.Cluster,
      resource: 'cart--v7',
    },
    {
      name: 'a resource filed under another name than its own',
      snapshot: () => edited(good, XdsType.Cluster, (r) => void (find(r, 'cart--v7').resource['name'] = 'cart-v7')),
      rule: ConsistencyRule.NameMismatch,
      type: XdsType.Cluster,
      resource: 'cart--v7',
    },
    {
      name: 'a resource of another type',
      snapshot: () => edited(good, XdsType.Route, (r) => void (find(r, 'cart').resource['@type'] = XdsType.Cluster)),
      rule: ConsistencyRule.WrongType,
      type: XdsType.Route,
      resource: 'cart',
    },
    {
      name: 'an HTTP filter after the router',
      snapshot: () =>
        edited(good, XdsType.Listener, (r) => {
          find(r, 'cart').resource['api_listener'].api_listener.http_filters.push({ name: 'envoy.filters.http.fault', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' } });
        }),
      rule: ConsistencyRule.RouterNotLast,
      type: XdsType.Listener,
      resource: 'cart',
    },
    {
      name: 'a locality without load_balancing_weight',
      snapshot: () => edited(good, XdsType.Endpoint, (r) => void delete find(r, 'cart--v7').resource['endpoints'][0].load_balancing_weight),
      rule: ConsistencyRule.LocalityWeightMissing,
      type: XdsType.Endpoint,
      resource: 'cart--v7',
    },
    {
      name: 'a priority gap',
      snapshot: () => edited(good, XdsType.Endpoint, (r) => void (find(r, 'checkout--v1').resource['endpoints'][1].priority = 2)),
      rule: ConsistencyRule.PriorityGap,
      type: XdsType.Endpoint,
      resource: 'checkout--v1',
    },
    {
      name: 'an endpoint twice',
      snapshot: () => buildSnapshot({ group: awsGroup, services: [{ service: 'cart', split: { v7: 100 }, versions: [registered('cart', 'v7', gcp(ep('10.8.1.1')), { ...gcp(ep('10.8.1.1')), cluster: 'gke-2' })] }] }, { hash: sha256 }),
      rule: ConsistencyRule.DuplicateEndpoint,
      type: XdsType.Endpoint,
      resource: 'cart--v7',
    },
  ];

  it.each(cases)('$name → $rule on $resource', ({ snapshot, rule, type, resource }) => {
    const problems = snapshotProblems(snapshot());
    expect(problems).toContainEqual(expect.objectContaining({ rule, typeUrl: type, resource }));
    for (const problem of problems) expect(problem.message).toContain(`"${problem.resource}"`);
  });

  it('a route to a missing version is reported for the gRPC route and the Envoy route alike', () => {
    const problems = snapshotProblems(buildSnapshot(mesh({ v1: 50, v3: 50 }), { hash: sha256 }));
    expect(problems.map((p) => [p.rule, p.resource])).toEqual([
      [ConsistencyRule.RouteClusterMissing, 'checkout'],
      [ConsistencyRule.RouteClusterMissing, ENVOY_ROUTE_NAME],
    ]);
    expect(problems[0]!.message).toBe('RouteConfiguration "checkout": virtual_hosts[0].routes[0] sends traffic to Cluster "checkout--v3", which is not in the snapshot');
  });
});

describe('assertConsistent', () => {
  it('throws a ValidationError naming the first resource and its rule, with every problem in the message', () => {
    const error = validationErrorOf(() => assertConsistent(buildSnapshot(mesh({ v1: 90, v2: 10 }, [aws()]), { hash: sha256 })));
    expect(error.field).toBe('RouteConfiguration/checkout');
    expect(error.rule).toBe(ConsistencyRule.RouteClusterEmpty);
    expect(error.message).toContain('snapshot for proxy group envoy-aws-use1 is inconsistent');
    expect(error.message).toContain(`RouteConfiguration "${ENVOY_ROUTE_NAME}"`);
  });
});
