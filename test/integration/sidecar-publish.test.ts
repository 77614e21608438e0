/**
 * Dependency-scoped groups (proxyGroups[].sidecarOf, docs/dataplane.md "Dependency-scoped
 * groups"), published into the per-service layout on DynamoDB Local and the embedded store:
 * - after every registration, step, deregistration and dependency change, the snapshot every
 *   group's HEAD names passes every rule of engine/envoy/consistency.ts (no route names a cluster
 *   the proxy lacks) and is exactly a whole build of what the group sees: the registry for a whole
 *   group, its service's dependencies and mesh.alwaysVisible for a sidecar group;
 * - a change to a service nobody's sidecar sees touches no sidecar group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/audit-log.js';
import { visibleServices } from '../../shared/domain/dependencies.js';
import { snapshotProblems } from '../../shared/engine/envoy/consistency.js';
import { declareDependencies } from '../../shared/usecases/declare-dependencies.js';
import { publishSnapshots, type PublishReport } from '../../shared/usecases/publish-snapshots.js';
import type { EnvoyGroup } from '../../shared/usecases/xds-deps.js';
import { aws, ep, gcp, registered } from '../support/mesh-builders.js';
import { depsOn, GROUPS, publishedSnapshot, putSplit, register, wholeBuild } from '../support/publish-rig.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';

const WHOLE = GROUPS[0]!;
const CHECKOUT_SIDECARS: EnvoyGroup = { ...WHOLE, name: 'sidecars-checkout', sidecarOf: 'checkout' };
const CART_SIDECARS: EnvoyGroup = { ...GROUPS[1]!, name: 'sidecars-cart', sidecarOf: 'cart' };
const ALL = [WHOLE, CHECKOUT_SIDECARS, CART_SIDECARS];
const ALWAYS_VISIBLE = ['auth'];

describe.each(backendFactories)('sidecar groups on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  it('keeps every HEAD consistent and equal to a whole build of what the group sees, through steps and dependency changes', async () => {
    const table = await backend.freshTable();
    const d = { ...depsOn(table, ALL, ALWAYS_VISIBLE), audit: new DynamoDbAuditLog(table) };
    const touched: string[] = [];
    const publish = async (service: string) => publishSnapshots(d, { services: [service] });
    const declare = async (service: string, dependencies: string[]) => (await declareDependencies(d, { service, dependencies, actor: 'admin' })).publication;
    const steps: [string, () => Promise<PublishReport | undefined>][] = [
      ['register auth', async () => { await register(d, registered('auth', 'v1', aws(ep('10.0.9.1')))); await putSplit(d, 'auth', { v1: 100 }); return publish('auth'); }],
      ['register payments', async () => { await register(d, registered('payments', 'v1', aws(ep('10.0.3.1')), gcp(ep('10.8.3.1')))); await putSplit(d, 'payments', { v1: 100 }); return publish('payments'); }],
      ['register inventory', async () => { await register(d, registered('inventory', 'v1', aws(ep('10.0.4.1')))); await putSplit(d, 'inventory', { v1: 100 }); return publish('inventory'); }],
      ['checkout calls payments', () => declare('checkout', ['payments'])],
      ['register payments v2 at 0%', async () => { await register(d, registered('payments', 'v2', aws(ep('10.0.3.2')))); await putSplit(d, 'payments', { v1: 100, v2: 0 }); return publish('payments'); }],
      ['step payments to 90/10', async () => { await putSplit(d, 'payments', { v1: 90, v2: 10 }); return publish('payments'); }],
      ['checkout calls payments and inventory', () => declare('checkout', ['inventory', 'payments'])],
      ['move inventory endpoints', async () => { await register(d, registered('inventory', 'v1', aws(ep('10.0.4.2'), ep('10.0.4.3')))); return publish('inventory'); }],
      ['checkout calls inventory alone', () => declare('checkout', ['inventory'])],
      ['step payments to 50/50', async () => { await putSplit(d, 'payments', { v1: 50, v2: 50 }); return publish('payments'); }],
      ['register checkout', async () => { await register(d, registered('checkout', 'v1', aws(ep('10.0.1.1')))); await putSplit(d, 'checkout', { v1: 100 }); return publish('checkout'); }],
      ['cart calls checkout and payments', () => declare('cart', ['checkout', 'payments'])],
      ['step payments to 0/100', async () => { await putSplit(d, 'payments', { v1: 0, v2: 100 }); return publish('payments'); }],
      ['deregister inventory', async () => { await d.registry.deleteVersion('inventory', 'v1', 2); return publish('inventory'); }],
      ['checkout calls nothing', () => declare('checkout', [])],
    ];
    for (const [what, change] of steps) {
      const report = await change();
      touched.push(`${what}: ${(report?.groups ?? []).map((g) => `${g.group} ${g.outcome}`).join(', ')}`);
      for (const group of ALL) {
        // auth, always visible, is the first registered: every group has a HEAD from then on.
        const published = await publishedSnapshot(d.parts, group.name);
        const seen = group.sidecarOf === undefined ? undefined : visibleServices((await d.registry.getDependencies(group.sidecarOf))?.dependencies, ALWAYS_VISIBLE);
        const whole = await wholeBuild(d, group, seen);
        expect(snapshotProblems(published), `${group.name} after "${what}"`).toEqual([]);
        expect(published.resources, `${group.name} after "${what}"`).toEqual(whole.resources);
        expect(published.versions, `${group.name} after "${what}"`).toEqual(whole.versions);
      }
    }
    expect(touched).toEqual([
      'register auth: envoy-aws-use1 published, sidecars-checkout published, sidecars-cart published',
      'register payments: envoy-aws-use1 published',
      'register inventory: envoy-aws-use1 published',
      'checkout calls payments: sidecars-checkout published',
      'register payments v2 at 0%: envoy-aws-use1 published, sidecars-checkout published',
      'step payments to 90/10: envoy-aws-use1 published, sidecars-checkout published',
      'checkout calls payments and inventory: sidecars-checkout published',
      'move inventory endpoints: envoy-aws-use1 published, sidecars-checkout published',
      'checkout calls inventory alone: sidecars-checkout published',
      'step payments to 50/50: envoy-aws-use1 published',
      'register checkout: envoy-aws-use1 published',
      'cart calls checkout and payments: sidecars-cart published',
      'step payments to 0/100: envoy-aws-use1 published, sidecars-cart published',
      'deregister inventory: envoy-aws-use1 published, sidecars-checkout published',
      // inventory, its one dependency, is gone already: nothing to remove.
      'checkout calls nothing: sidecars-checkout unchanged',
    ]);
    // Whole publishes afterwards change nothing: every group is what it sees.
    expect((await publishSnapshots(d)).groups.map((g) => g.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    const head = (await d.parts.head(CHECKOUT_SIDECARS.name))!;
    expect([...(await d.parts.manifest(head)).keys()]).toEqual(['auth']);
  });

  it('publishes a sidecar group whole from what it sees, without listing the registry', async () => {
    const table = await backend.freshTable();
    const d = depsOn(table, [CHECKOUT_SIDECARS], ALWAYS_VISIBLE);
    for (const service of ['auth', 'payments', 'search']) {
      await register(d, registered(service, 'v1', aws(ep(`10.0.0.${service.length}`))));
      await putSplit(d, service, { v1: 100 });
    }
    await d.registry.putDependencies({ service: 'checkout', dependencies: ['payments'], revision: 1, updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'admin' });
    let listed = 0;
    const counting = { ...d, registry: Object.assign(Object.create(d.registry) as typeof d.registry, { listServices: async () => { listed++; return d.registry.listServices(); } }) };
    expect((await publishSnapshots(counting)).groups[0]).toMatchObject({ outcome: 'published', partsWritten: 3 });
    expect(listed).toBe(0);
    const head = (await d.parts.head(CHECKOUT_SIDECARS.name))!;
    expect([...(await d.parts.manifest(head)).keys()].sort()).toEqual(['auth', 'payments']);
  });
});
