/**
 * Incremental publishing into the per-service layout (shared/usecases/publish-snapshots.ts,
 * shared/adapters/dynamodb/part-store.ts), on DynamoDB Local and the embedded store:
 * - every HEAD a sequence of registrations, steps and deregistrations writes names a snapshot that
 *   passes every rule of engine/envoy/consistency.ts, and is exactly the snapshot a whole build of
 *   the registry makes at that moment (resources and versions);
 * - a step costs the same DynamoDB requests whatever the number of registered services.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableHandle } from '../../shared/adapters/dynamodb/client.js';
import { ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { TTL_ATTRIBUTE } from '../../shared/adapters/dynamodb/table.js';
import { GROUP_PART } from '../../shared/domain/snapshot-parts.js';
import { snapshotProblems } from '../../shared/engine/envoy/consistency.js';
import { publishSnapshots as publishParts } from '../../shared/usecases/publish-snapshots.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo.js';
import { startDynamoDbCounter, type DynamoDbCounter } from '../support/dynamodb-counter.js';
import { aws, ep, gcp, registered } from '../support/mesh-builders.js';
import { depsOn, GROUPS, publishedSnapshot, putSplit, register, wholeBuild } from '../support/publish-rig.js';
import { backendFactories, scanTable, type StoreBackend } from '../support/store-backends.js';

describe.each(backendFactories)('incremental publishing on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  it('keeps every HEAD of a sequence of registrations, steps and deregistrations consistent, and equal to a whole build', async () => {
    const d = depsOn(await backend.freshTable());
    const steps: [string, string, () => Promise<void>][] = [
      ['cart', 'register cart v1', async () => { await register(d, registered('cart', 'v1', aws(ep('10.0.2.1', 'use1-az1')))); await putSplit(d, 'cart', { v1: 100 }); }],
      ['checkout', 'register checkout v1', async () => { await register(d, registered('checkout', 'v1', aws(ep('10.0.1.10')), gcp(ep('10.8.0.7')))); await putSplit(d, 'checkout', { v1: 100 }); }],
      ['checkout', 'register checkout v2 at 0%', async () => { await register(d, registered('checkout', 'v2', aws(ep('10.0.1.20')))); await putSplit(d, 'checkout', { v1: 100, v2: 0 }); }],
      ['checkout', 'step checkout to 90/10', () => putSplit(d, 'checkout', { v1: 90, v2: 10 })],
      ['checkout', 'step checkout to 50/50', () => putSplit(d, 'checkout', { v1: 50, v2: 50 })],
      ['payments', 'register payments with an endpoint twice (isolated)', async () => { await register(d, registered('payments', 'v1', aws(ep('10.0.3.1')), gcp(ep('10.0.3.1')))); await putSplit(d, 'payments', { v1: 100 }); }],
      ['checkout', 'move checkout v2 endpoints', () => register(d, registered('checkout', 'v2', aws(ep('10.0.1.21'), ep('10.0.1.22'))))],
      ['payments', 'fix payments', () => register(d, registered('payments', 'v1', aws(ep('10.0.3.1'))))],
      ['checkout', 'promote checkout v2', () => putSplit(d, 'checkout', { v1: 0, v2: 100 })],
      ['checkout', 'deregister checkout v1', async () => { const v1 = (await d.registry.getService('checkout'))!.versions.find((v) => v.version === 'v1')!; await d.registry.deleteVersion('checkout', 'v1', v1.revision); await putSplit(d, 'checkout', { v2: 100 }); }],
      ['cart', 'deregister cart', async () => { await d.registry.deleteVersion('cart', 'v1', 1); }],
    ];
    const isolatedAt: string[] = [];
    for (const [service, what, change] of steps) {
      await change();
      const report = await publishParts(d, { services: [service] });
      for (const g of report.groups) if (g.outcome !== 'refused' && g.isolated.length > 0) isolatedAt.push(`${g.group}: ${what}`);
      // The isolated registration has no part to publish: the HEAD stays, and names it nowhere.
      const expected = what.includes('(isolated)') ? 'unchanged' : 'published';
      expect(report.groups.map((g) => g.outcome), what).toEqual([expected, expected]);
      for (const group of GROUPS) {
        const published = await publishedSnapshot(d.parts, group.name);
        expect(snapshotProblems(published), `${group.name} after "${what}"`).toEqual([]);
        const whole = await wholeBuild(d, group);
        expect(published.resources, `${group.name} after "${what}"`).toEqual(whole.resources);
        expect(published.versions, `${group.name} after "${what}"`).toEqual(whole.versions);
      }
    }
    expect(isolatedAt).toEqual(['envoy-aws-use1: register payments with an endpoint twice (isolated)', 'grpc-gcp-usc1: register payments with an endpoint twice (isolated)']);
    // Publishing the whole registry now finds nothing to change.
    expect((await publishParts(d)).groups.map((g) => g.outcome)).toEqual(['unchanged', 'unchanged']);
  });

  it('publishes the whole registry and removes the parts of services no longer registered', async () => {
    const d = depsOn(await backend.freshTable());
    for (const service of ['a', 'b', 'c']) {
      await register(d, registered(service, 'v1', aws(ep(`10.0.0.${service.charCodeAt(0)}`))));
      await putSplit(d, service, { v1: 100 });
    }
    expect((await publishParts(d)).groups[0]).toMatchObject({ outcome: 'published', revision: 1, partsWritten: 4 });
    await d.registry.deleteVersion('b', 'v1', 1);
    expect((await publishParts(d)).groups[0]).toMatchObject({ outcome: 'published', revision: 2, partsWritten: 0 });
    const head = (await d.parts.head(GROUPS[0]!.name))!;
    expect([...(await d.parts.manifest(head)).keys()].sort()).toEqual(['a', 'c']);
    expect([...(await d.parts.parts(head, ['a', 'b', GROUP_PART])).keys()].sort()).toEqual([GROUP_PART, 'a']);
    expect(await publishedSnapshot(d.parts, GROUPS[0]!.name)).toEqual(await wholeBuild(d, GROUPS[0]!));
  });

  it('gives the part and bucket a step superseded an expiry, and takes it back when a rollback names them again', async () => {
    const table = await backend.freshTable();
    const d = depsOn(table, [GROUPS[0]!]);
    await register(d, registered('checkout', 'v1', aws(ep('10.0.1.10'))));
    await register(d, registered('checkout', 'v2', aws(ep('10.0.1.20'))));
    await putSplit(d, 'checkout', { v1: 100, v2: 0 });
    await publishParts(d, { services: ['checkout'] });
    const items = async () => (await scanTable(table)).filter((item) => String(item['pk']).startsWith(`XDSP#${GROUPS[0]!.name}#`));
    const expiring = async () => (await items()).filter((item) => item[TTL_ATTRIBUTE] !== undefined).map((item) => `${String(item['pk'])} ${String(item['sk'])}`).sort();
    const named = async () => (await items()).filter((item) => item[TTL_ATTRIBUTE] === undefined).map((item) => `${String(item['pk'])} ${String(item['sk'])}`).sort();
    const first = await named();
    expect(await expiring()).toEqual([]);

    await putSplit(d, 'checkout', { v1: 90, v2: 10 });
    await publishParts(d, { services: ['checkout'] });
    // checkout's first part and its first bucket: nothing else.
    expect(await expiring()).toEqual(first.filter((key) => !key.includes('#_group')));

    await putSplit(d, 'checkout', { v1: 100, v2: 0 });
    await publishParts(d, { services: ['checkout'] });
    expect((await named()).filter((key) => first.includes(key))).toEqual(first);
    expect(await expiring()).toHaveLength(2);
    expect(await publishedSnapshot(d.parts, GROUPS[0]!.name)).toEqual(await wholeBuild(d, GROUPS[0]!));
  });

  it('refuses a group whose new part makes a cluster name another service makes, writing nothing', async () => {
    const d = depsOn(await backend.freshTable(), [GROUPS[0]!]);
    await register(d, registered('a', 'x--v1', aws(ep('10.0.0.1'))));
    await putSplit(d, 'a', { 'x--v1': 100 });
    await publishParts(d, { services: ['a'] });
    const before = await d.parts.head(GROUPS[0]!.name);
    await register(d, registered('a--x', 'v1', aws(ep('10.0.0.2'))));
    await putSplit(d, 'a--x', { v1: 100 });
    const report = await publishParts(d, { services: ['a--x'] });
    expect(report.groups[0]).toMatchObject({ outcome: 'refused', rule: 'duplicate-name', field: 'Cluster/a--x--v1' });
    expect(await d.parts.head(GROUPS[0]!.name)).toEqual(before);
  });
});

describe('a step at 10 and at 120 registered services', () => {
  let embedded: EmbeddedDynamo;
  let counter: DynamoDbCounter;
  beforeAll(async () => {
    embedded = await startEmbeddedDynamo({});
    counter = await startDynamoDbCounter(embedded.endpoint);
  });
  afterAll(async () => {
    await counter.stop();
    await embedded.stop();
  });

  /** Requests of one step (the split written, then published) of `service-00003`, with `count` services registered. */
  async function stepRequests(count: number): Promise<Record<string, number>> {
    const table = createTableHandle({ region: 'us-east-1', endpoint: counter.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }, `steps-${count}`);
    await ensureTable(table);
    const d = depsOn(table);
    for (let i = 0; i < count; i++) {
      const service = `service-${String(i).padStart(5, '0')}`;
      await register(d, registered(service, 'v1', aws(ep(`10.1.${i >> 8}.${i & 255}`))));
      await register(d, registered(service, 'v2', aws(ep(`10.2.${i >> 8}.${i & 255}`))));
      await putSplit(d, service, { v1: 100, v2: 0 });
    }
    await publishParts(d);
    await putSplit(d, 'service-00003', { v1: 90, v2: 10 });
    counter.reset();
    const report = await publishParts(d, { services: ['service-00003'] });
    expect(report.groups.map((g) => g.outcome)).toEqual(['published', 'published']);
    return counter.counts();
  }

  it('costs the same DynamoDB requests', async () => {
    const small = await stepRequests(10);
    const large = await stepRequests(120);
    expect(large).toEqual(small);
    // Per group: the HEAD read, the bucket read, the part and bucket written, the HEAD written, the two superseded items marked; one registry Query.
    expect(small).toEqual({ GetItem: 2, BatchGetItem: 2, Query: 1, PutItem: 6, UpdateItem: 4 });
  });
});
