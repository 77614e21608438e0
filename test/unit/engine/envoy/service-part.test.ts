/** A group's snapshot as per-service parts (shared/engine/envoy/service-part.ts, shared/domain/snapshot-parts.ts). */
import { describe, expect, it } from 'vitest';
import { assembleType, namedVersion, versionsOf, xorHashes, type SnapshotPart } from '../../../../shared/domain/snapshot-parts.js';
import { buildGroupPart, buildServicePart, clusterNameOwners, sharedClusterName } from '../../../../shared/engine/envoy/service-part.js';
import { buildSnapshot, XDS_PUSH_ORDER, XdsType, type ConfigSourceFlavour, type GroupMesh, type ServiceMesh } from '../../../../shared/engine/envoy/snapshot.js';
import { aws, ep, gcp, registered, sha256 } from '../../../support/mesh-builders.js';

const group: GroupMesh['group'] = { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] };
const REST: ConfigSourceFlavour = { kind: 'rest', xdsCluster: 'crossfade_xds', refreshDelaySeconds: 5, requestTimeoutSeconds: 5 };

const service = (name: string, octet: number, split: Record<string, number> = { v1: 90, v2: 10 }): ServiceMesh => ({
  service: name,
  split,
  versions: [registered(name, 'v1', aws(ep(`10.0.${octet}.1`, 'use1-az1'))), registered(name, 'v2', aws(ep(`10.0.${octet}.2`)), gcp(ep(`10.1.${octet}.2`)))],
});

function partsOf(services: readonly ServiceMesh[], configSource?: ConfigSourceFlavour): SnapshotPart[] {
  const options = { hash: sha256, ...(configSource ? { configSource } : {}) };
  return [buildGroupPart(options), ...services.map((s) => buildServicePart(s, group, options)).flatMap((b) => (b.kind === 'part' ? [b.part] : []))];
}

describe('snapshot parts', () => {
  it.each([
    ['ads', undefined],
    ['rest', REST],
  ] as const)('put together (%s), make exactly the resources buildSnapshot makes', (_name, configSource) => {
    const services = [service('payments', 2), service('cart', 1), service('checkout', 3)];
    const whole = buildSnapshot({ group, services }, { hash: sha256, ...(configSource ? { configSource } : {}) });
    const parts = partsOf(services, configSource);
    for (const typeUrl of XDS_PUSH_ORDER) expect(assembleType(parts, typeUrl)).toEqual(whole.resources[typeUrl].map((r) => ({ name: r.name, resource: r.resource })));
  });

  it('versions a type by XOR of its parts: replacing one part is old version ^ old part ^ new part, and equals a fresh computation', () => {
    const before = partsOf([service('cart', 1), service('checkout', 3)]);
    const stepped = partsOf([service('checkout', 3, { v1: 50, v2: 50 })])[1]!;
    const after = before.map((p) => (p.service === 'checkout' ? stepped : p));
    const old = versionsOf(before, XDS_PUSH_ORDER);
    const previous = before.find((p) => p.service === 'checkout')!;
    const incremental = Object.fromEntries(XDS_PUSH_ORDER.map((t) => [t, xorHashes([old[t]!, previous.hashes[t]!, stepped.hashes[t]!])]));
    expect(incremental).toEqual(versionsOf(after, XDS_PUSH_ORDER));
    // A step changes routes only: clusters and endpoints keep their versions.
    expect(incremental[XdsType.Cluster]).toBe(old[XdsType.Cluster]);
    expect(incremental[XdsType.Endpoint]).toBe(old[XdsType.Endpoint]);
    expect(incremental[XdsType.Route]).not.toBe(old[XdsType.Route]);
    // The order parts come in is irrelevant; equal content, equal key.
    expect(versionsOf([...after].reverse(), XDS_PUSH_ORDER)).toEqual(incremental);
    expect(partsOf([service('checkout', 3, { v1: 50, v2: 50 })])[1]!.key).toBe(stepped.key);
    expect(stepped.key).not.toBe(previous.key);
  });

  it('versions a named set of resources by its own elements: naming every resource gives the type version, one ClusterLoadAssignment changes only its own', () => {
    const parts = partsOf([service('cart', 1), service('checkout', 3)], REST);
    const all = new Set(assembleType(parts, XdsType.Endpoint).map((r) => r.name));
    expect(namedVersion(parts, XdsType.Endpoint, all)).toBe(versionsOf(parts, XDS_PUSH_ORDER)[XdsType.Endpoint]);
    const moved = partsOf([{ ...service('checkout', 3), versions: [registered('checkout', 'v1', aws(ep('10.0.3.9'))), service('checkout', 3).versions[1]!] }], REST)[1]!;
    const after = parts.map((p) => (p.service === 'checkout' ? moved : p));
    const cart = new Set(['cart--v1']);
    expect(namedVersion(after, XdsType.Endpoint, cart)).toBe(namedVersion(parts, XdsType.Endpoint, cart));
    const checkout = new Set(['checkout--v1']);
    expect(namedVersion(after, XdsType.Endpoint, checkout)).not.toBe(namedVersion(parts, XdsType.Endpoint, checkout));
    expect(namedVersion(after, XdsType.Endpoint, new Set(['checkout--v2']))).toBe(namedVersion(parts, XdsType.Endpoint, new Set(['checkout--v2'])));
  });

  it('isolates a service whose own resources break a rule, naming it, as a whole build does', () => {
    const broken: ServiceMesh = { service: 'checkout', split: { v8: 50, v9: 50 }, versions: [registered('checkout', 'v8', aws(ep('10.60.0.8'))), registered('checkout', 'v9')] };
    expect(buildServicePart(broken, group, { hash: sha256 })).toEqual({ kind: 'isolated', isolated: expect.objectContaining({ service: 'checkout', rule: 'route-cluster-empty', field: 'RouteConfiguration/checkout' }) });
    const badSplit: ServiceMesh = { ...service('cart', 1), split: { v1: 90 } };
    expect(buildServicePart(badSplit, group, { hash: sha256 })).toMatchObject({ kind: 'isolated', isolated: { service: 'cart', rule: 'split-sums-to-100' } });
  });

  it('names the services a cluster name could collide with, and finds the collision', () => {
    const a = partsOf([{ service: 'a', split: { 'x--v1': 100 }, versions: [registered('a', 'x--v1', aws(ep('10.0.0.1')))] }])[1]!;
    const ax = partsOf([{ service: 'a--x', split: { v1: 100 }, versions: [registered('a--x', 'v1', aws(ep('10.0.0.2')))] }])[1]!;
    expect(clusterNameOwners(a)).toEqual(['a--x']);
    expect(clusterNameOwners(ax)).toEqual(['a']);
    expect(clusterNameOwners(partsOf([service('checkout', 3)])[1]!)).toEqual([]);
    expect(sharedClusterName(a, [ax])).toEqual({ name: 'a--x--v1', service: 'a--x' });
    expect(sharedClusterName(a, partsOf([service('checkout', 3)]))).toBeUndefined();
  });
});
