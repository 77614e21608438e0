/** The MeshRegistry contract (shared/ports/mesh-registry.ts), on DynamoDB Local and the embedded store. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import type { GroupSplit, RegisteredVersion } from '../../shared/domain/mesh.js';
import type { MeshRegistry } from '../../shared/ports/mesh-registry.js';
import { rejectionOf } from '../support/errors.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';

function registration(service: string, version: string, revision = 1, address = '10.0.1.10'): RegisteredVersion {
  return {
    service,
    version,
    clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address, port: 8080, zone: 'us-east-1a' }] }],
    registeredAt: '2026-11-26T10:00:00.000Z',
    registeredBy: 'admin',
    revision,
  };
}

function split(service: string, group: string, weights: Record<string, number>, revision = 1): GroupSplit {
  return { service, proxyGroup: group, weights, revision, updatedAt: '2026-11-26T10:00:00.000Z' };
}

describe.each(backendFactories)('MeshRegistry on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  let registry: MeshRegistry;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  beforeAll(async () => {
    registry = createDynamoDbStores(await backend.freshTable()).registry;
  });

  it('knows nothing of a service never registered', async () => {
    expect(await registry.getService('ghost')).toBeUndefined();
  });

  it('reads back a service whole: its versions and its splits', async () => {
    await registry.putVersion(registration('checkout', 'v41'));
    await registry.putVersion(registration('checkout', 'v42'));
    await registry.putSplit(split('checkout', 'envoy-aws-use1', { v41: 100, v42: 0 }));
    const state = await registry.getService('checkout');
    expect(state?.versions.map((v) => v.version).sort()).toEqual(['v41', 'v42']);
    expect(state?.splits).toEqual([split('checkout', 'envoy-aws-use1', { v41: 100, v42: 0 })]);
  });

  it('guards every write with the revision read: a stale or repeated write is a VersionConflictError', async () => {
    await registry.putVersion(registration('cart', 'v1'));
    const duplicateCreate = await rejectionOf(registry.putVersion(registration('cart', 'v1')));
    expect(duplicateCreate).toMatchObject({ name: 'VersionConflictError', retryable: true });
    await registry.putVersion(registration('cart', 'v1', 2, '10.0.1.11'));
    expect(await rejectionOf(registry.putVersion(registration('cart', 'v1', 2, '10.0.1.12')))).toMatchObject({ name: 'VersionConflictError' });
    const state = await registry.getService('cart');
    expect(state?.versions[0]?.clusters[0]?.endpoints[0]?.address).toBe('10.0.1.11');

    await registry.putSplit(split('cart', 'g', { v1: 100 }));
    expect(await rejectionOf(registry.putSplit(split('cart', 'g', { v1: 100 })))).toMatchObject({ name: 'VersionConflictError' });
    await registry.putSplit(split('cart', 'g', { v1: 100 }, 2));
  });

  it('fences splits: never an older fencing token, nor none, over a split written under a token; the same or a newer one passes', async () => {
    await registry.putSplit({ ...split('fenced', 'g', { v1: 100 }), fencingToken: 5 });
    expect(await rejectionOf(registry.putSplit({ ...split('fenced', 'g', { v1: 90, v2: 10 }, 2), fencingToken: 4 }))).toMatchObject({ name: 'VersionConflictError' });
    expect(await rejectionOf(registry.putSplit(split('fenced', 'g', { v1: 90, v2: 10 }, 2)))).toMatchObject({ name: 'VersionConflictError' });
    expect((await registry.getService('fenced'))?.splits).toEqual([{ ...split('fenced', 'g', { v1: 100 }), fencingToken: 5 }]);

    // A registration passes the token it read on; a newer holder writes with its own.
    await registry.putSplit({ ...split('fenced', 'g', { v1: 100, v2: 0 }, 2), fencingToken: 5 });
    await registry.putSplit({ ...split('fenced', 'g', { v1: 90, v2: 10 }, 3), fencingToken: 6 });
    expect((await registry.getService('fenced'))?.splits).toEqual([{ ...split('fenced', 'g', { v1: 90, v2: 10 }, 3), fencingToken: 6 }]);
  });

  it('deletes a registration at the revision read, and is idempotent', async () => {
    await registry.putVersion(registration('search', 'v1'));
    expect(await rejectionOf(registry.deleteVersion('search', 'v1', 7))).toMatchObject({ name: 'VersionConflictError' });
    expect(await registry.deleteVersion('search', 'v1', 1)).toBe('deleted');
    expect(await registry.deleteVersion('search', 'v1', 1)).toBe('absent');
    expect(await registry.getService('search')).toBeUndefined();
  });

  it('lists every registered service once, in name order', async () => {
    await registry.putVersion(registration('zeta', 'v1'));
    await registry.putVersion(registration('alpha', 'v1'));
    await registry.putVersion(registration('alpha', 'v2'));
    const services = await registry.listServices();
    expect(services).toEqual([...new Set(services)].sort());
    expect(services).toEqual(expect.arrayContaining(['alpha', 'zeta', 'checkout', 'cart']));
    expect(services).not.toContain('search');
  });

  it('walks the registry in shards: each service once, in name order, a name that prefixes another included', async () => {
    const sharded = createDynamoDbStores(await backend.freshTable()).registry;
    // `a` prefixes `a-b` and `a0`; three versions each make a shard span pages of the index.
    const names = ['a', 'a-b', 'a0', 'b', 'c', 'd', 'e'];
    for (const name of names) for (const version of ['v1', 'v2', 'v3']) await sharded.putVersion(registration(name, version, 1, `10.0.${names.indexOf(name)}.${version.slice(1)}`));

    const shards: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const shard = await sharded.listServicesAfter(after, 2);
      shards.push(shard.services);
      if (!shard.more) break;
      after = shard.services.at(-1);
    }
    expect(shards).toEqual([['a', 'a-b'], ['a0', 'b'], ['c', 'd'], ['e']]);
    expect(await sharded.listServicesAfter('e', 2)).toEqual({ services: [], more: false });
    expect(await sharded.listServicesAfter(undefined, 7)).toEqual({ services: names, more: false });
  });
  it('keeps a service\'s declared dependencies beside its registration, guarded by revision, and never mistakes them for one', async () => {
    const declared = { service: 'orders', dependencies: ['auth', 'payments'], revision: 1, updatedAt: '2026-11-26T10:00:00.000Z', updatedBy: 'admin' };
    expect(await registry.getDependencies('orders')).toBeUndefined();
    await registry.putDependencies(declared);
    expect(await registry.getDependencies('orders')).toEqual(declared);
    expect(await registry.getService('orders')).toBeUndefined();
    expect(await rejectionOf(registry.putDependencies(declared))).toMatchObject({ name: 'VersionConflictError', retryable: true });
    await registry.putDependencies({ ...declared, dependencies: [], revision: 2 });
    expect(await rejectionOf(registry.putDependencies({ ...declared, revision: 2 }))).toMatchObject({ name: 'VersionConflictError' });
    expect(await registry.getDependencies('orders')).toMatchObject({ dependencies: [], revision: 2 });
    await registry.putVersion(registration('orders', 'v1'));
    expect((await registry.getService('orders'))?.versions.map((v) => v.version)).toEqual(['v1']);
  });
});
