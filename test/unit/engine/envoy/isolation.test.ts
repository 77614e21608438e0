/** A group's snapshot that no one service can poison (shared/engine/envoy/isolation.ts). */
import { describe, expect, it } from 'vitest';
import { snapshotProblems } from '../../../../shared/engine/envoy/consistency.js';
import { buildIsolatingSnapshot, isolationOf } from '../../../../shared/engine/envoy/isolation.js';
import { buildSnapshot, XdsType, type GroupMesh, type ServiceMesh } from '../../../../shared/engine/envoy/snapshot.js';
import { validationErrorOf } from '../../../support/errors.js';
import { aws, ep, gcp, registered, sha256 } from '../../../support/mesh-builders.js';

const group = { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] } as const;

const healthy = (service: string, address: string): ServiceMesh => ({ service, split: { v1: 100 }, versions: [registered(service, 'v1', aws(ep(address)))] });

/** Each way one service's registration can break a rule the consistency check enforces. */
const broken: [string, ServiceMesh, string, string | undefined][] = [
  ['an endpoint in both clusters', { service: 'checkout', split: { v8: 100, v9: 0 }, versions: [registered('checkout', 'v8', aws(ep('10.60.0.8'))), registered('checkout', 'v9', aws(ep('10.60.0.9')), gcp(ep('10.60.0.9')))] }, 'duplicate-endpoint', 'ClusterLoadAssignment/checkout--v9'],
  ['traffic on a version without endpoints', { service: 'checkout', split: { v8: 50, v9: 50 }, versions: [registered('checkout', 'v8', aws(ep('10.60.0.8'))), registered('checkout', 'v9')] }, 'route-cluster-empty', 'RouteConfiguration/checkout'],
  ['traffic on a version not registered', { service: 'checkout', split: { v8: 50, v7: 50 }, versions: [registered('checkout', 'v8', aws(ep('10.60.0.8')))] }, 'route-cluster-missing', 'RouteConfiguration/checkout'],
  ['a split that does not sum to 100', { service: 'checkout', split: { v8: 90 }, versions: [registered('checkout', 'v8', aws(ep('10.60.0.8')))] }, 'split-sums-to-100', 'services.checkout.split'],
];

const mesh = (...services: ServiceMesh[]): GroupMesh => ({ group, services });
const clusters = (snapshot: { resources: Record<string, readonly { name: string }[]> }) => snapshot.resources[XdsType.Cluster]!.map((r) => r.name);

describe('buildIsolatingSnapshot', () => {
  it('builds exactly what buildSnapshot builds when every service is consistent', () => {
    const input = mesh(healthy('payments', '10.0.0.2'), healthy('cart', '10.0.0.1'));
    const { snapshot, isolated } = buildIsolatingSnapshot(input, { hash: sha256 });
    expect(isolated).toEqual([]);
    expect(snapshot).toEqual(buildSnapshot(input, { hash: sha256 }));
  });

  it.each(broken)('leaves out a service with %s, naming its rule and resource; the others are published whole', (_name, service, rule, field) => {
    const others = [healthy('cart', '10.0.0.1'), healthy('payments', '10.0.0.2')];
    const { snapshot, isolated } = buildIsolatingSnapshot(mesh(others[0]!, service, others[1]!), { hash: sha256 });
    expect(isolated).toEqual([expect.objectContaining({ service: 'checkout', rule, field })]);
    expect(isolated[0]!.reason).not.toBe('');
    expect(snapshotProblems(snapshot)).toEqual([]);
    expect(clusters(snapshot)).toEqual(['cart--v1', 'payments--v1']);
    // Versioned as if the broken service had never been registered.
    expect(snapshot.versions).toEqual(buildSnapshot(mesh(...others), { hash: sha256 }).versions);
  });

  it('names every broken service, by name', () => {
    const [, first] = broken[0]!;
    const second = { ...broken[1]![1], service: 'alpha', versions: broken[1]![1].versions.map((v) => ({ ...v, service: 'alpha' })) };
    const { isolated } = buildIsolatingSnapshot(mesh(first, healthy('cart', '10.0.0.1'), second), { hash: sha256 });
    expect(isolated.map((i) => [i.service, i.rule])).toEqual([
      ['alpha', 'route-cluster-empty'],
      ['checkout', 'duplicate-endpoint'],
    ]);
  });

  it('refuses the group when the problem lies between services (two make one cluster name)', () => {
    const a = { service: 'a', split: { 'x--v1': 100 }, versions: [registered('a', 'x--v1', aws(ep('10.0.0.1')))] };
    const ax = { service: 'a--x', split: { v1: 100 }, versions: [registered('a--x', 'v1', aws(ep('10.0.0.2')))] };
    expect([isolationOf(a, group, {}), isolationOf(ax, group, {})]).toEqual([undefined, undefined]);
    const error = validationErrorOf(() => buildIsolatingSnapshot(mesh(a, ax, healthy('cart', '10.0.0.3')), { hash: sha256 }));
    expect(error).toMatchObject({ rule: 'duplicate-name', field: 'Cluster/a--x--v1' });
  });
});

describe('isolationOf', () => {
  it.each(broken)('says a service with %s would be left out, with the rule publishing names', (_name, service, rule, field) => {
    expect(isolationOf(service, group, {})).toMatchObject({ service: 'checkout', rule, field });
  });

  it('says nothing of a consistent service', () => {
    expect(isolationOf(healthy('cart', '10.0.0.1'), group, {})).toBeUndefined();
  });
});
