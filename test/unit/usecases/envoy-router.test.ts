/**
 * The Envoy TrafficRouter (shared/usecases/envoy-router.ts) where the contract suite cannot reach
 * on real parts: coalescing across groups, a publish that loses its race, a registry that does not
 * match the arguments, and the canary publishing a lost step again. Fakes of our own ports.
 */
import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../../shared/domain/errors.js';
import type { ProxyGroup, RegisteredVersion, Split } from '../../../shared/domain/mesh.js';
import { verifyShares } from '../../../shared/usecases/canary/traffic.js';
import { coalescingPublisher } from '../../../shared/usecases/coalescing-publisher.js';
import { EnvoyTrafficRouter } from '../../../shared/usecases/envoy-router.js';
import { programProxies } from '../../../shared/usecases/program-proxies.js';
import { makeDeployment } from '../../support/deployments.js';
import { rejectionOf } from '../../support/errors.js';
import { fakeHttpDeps } from '../../support/fakes.js';
import { InMemoryMeshRegistry, InMemoryPartStore } from '../../support/mesh-fakes.js';

const WITH_NODE: ProxyGroup = { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }] };
const WITHOUT_NODES: ProxyGroup = { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [] };
const SPLIT: Split = { 'v1.4.0': 90, 'v1.5.0': 10 };

function version(v: string, host: number, endpoints = true): RegisteredVersion {
  const addresses = endpoints ? [{ address: `10.0.1.${host}`, port: 8080, zone: null }] : [];
  return { service: 'checkout', version: v, clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: addresses }], registeredAt: '2025-03-01T12:00:00.000Z', registeredBy: 'test', revision: 1 };
}

/** checkout v1.4.0 and v1.5.0 registered, SPLIT written for both groups; publishes counted by registry reads (one per publish). */
async function rig(options: { endpoints?: boolean } = {}) {
  const registry = new InMemoryMeshRegistry();
  for (const [v, host] of [['v1.4.0', 10], ['v1.5.0', 11]] as const) await registry.putVersion(version(v, host, options.endpoints ?? true));
  for (const group of [WITH_NODE, WITHOUT_NODES]) await registry.putSplit({ service: 'checkout', proxyGroup: group.name, weights: SPLIT, revision: 1, updatedAt: '2025-03-01T12:00:00.000Z' });
  let reads = 0;
  const getService = registry.getService.bind(registry);
  registry.getService = (service) => {
    reads++;
    return getService(service);
  };
  const parts = new InMemoryPartStore();
  const deps = fakeHttpDeps({ registry, parts, proxyGroups: [WITH_NODE, WITHOUT_NODES] });
  const router = new EnvoyTrafficRouter({ ...deps, publish: coalescingPublisher(deps) });
  const backend = [version('v1.4.0', 10), version('v1.5.0', 11)].map((v) => ({ version: v.version, endpoints: v.clusters[0]!.endpoints }));
  return { deps: { ...deps, routers: { envoy: router } }, router, parts, backend, reads: () => reads };
}

describe('EnvoyTrafficRouter', () => {
  it('applySplit for every group in one turn is one publish; verifySplit then says what each group can tell', async () => {
    const { router, backend, reads } = await rig();
    await Promise.all([WITH_NODE, WITHOUT_NODES].map((group) => router.applySplit(group, 'checkout', backend, SPLIT)));
    expect(reads()).toBe(1);
    expect(await router.verifySplit(WITH_NODE, 'checkout', backend, SPLIT)).toEqual({ state: 'propagating', lagging: [{ proxy: 'envoy-aws-1', reason: 'has never polled' }] });
    expect(await router.verifySplit(WITHOUT_NODES, 'checkout', backend, SPLIT)).toMatchObject({ state: 'unknown', reason: expect.stringContaining('lists no node ids') });
  });

  it('a publish that lost its race is not a failure: verifySplit says pending naming the group, and applying again publishes', async () => {
    const { router, parts, backend } = await rig();
    for (let i = 0; i < 3; i++) parts.failNext('publish', new VersionConflictError('HEAD of envoy-aws-use1', i));
    await router.applySplit(WITH_NODE, 'checkout', backend, SPLIT);
    expect(await router.verifySplit(WITH_NODE, 'checkout', backend, SPLIT)).toEqual({ state: 'pending', lagging: [{ proxy: 'envoy-aws-use1', reason: 'nothing is published for proxy group envoy-aws-use1 yet' }] });
    await router.applySplit(WITH_NODE, 'checkout', backend, SPLIT);
    expect((await router.verifySplit(WITH_NODE, 'checkout', backend, SPLIT)).state).toBe('propagating');
  });

  it('publishes the registry, not its arguments: a split the registry does not hold is never converged', async () => {
    const { router, backend } = await rig();
    await router.applySplit(WITHOUT_NODES, 'checkout', backend, { 'v1.4.0': 50, 'v1.5.0': 50 });
    expect(await router.verifySplit(WITHOUT_NODES, 'checkout', backend, { 'v1.4.0': 50, 'v1.5.0': 50 })).toMatchObject({ state: 'pending', lagging: [{ proxy: 'envoy-gcp-usc1', reason: expect.stringContaining('does not carry') }] });
    expect((await router.verifySplit(WITHOUT_NODES, 'checkout', backend, SPLIT)).state).toBe('unknown');
  });

  it('a registry with nothing to route to: ProxyCommandError naming the group and why; the snapshot does not route the service', async () => {
    const { router, backend } = await rig({ endpoints: false });
    expect(await rejectionOf(router.applySplit(WITH_NODE, 'checkout', backend, SPLIT))).toMatchObject({
      name: 'ProxyCommandError',
      message: 'proxy group envoy-aws-use1 refused "publish checkout": no version of checkout has an endpoint, so no snapshot routes it',
    });
    expect((await router.verifySplit(WITH_NODE, 'checkout', backend, SPLIT)).state).toBe('pending');
  });
});

describe('the canary with Envoy groups (verifyShares)', () => {
  it('publishes again a step whose publish lost its race, then finds the split published', async () => {
    const { deps, parts } = await rig();
    const state = (await deps.registry.getService('checkout'))!;
    for (let i = 0; i < 6; i++) parts.failNext('publish', new VersionConflictError('HEAD', i));
    await programProxies(deps, 'checkout', state);
    const d = makeDeployment();
    const shares = new Map([[WITH_NODE.name, 10], [WITHOUT_NODES.name, 10]]);

    const first = await verifyShares(deps, d, shares);
    expect(first.lagging.map((l) => l.proxy).sort()).toEqual(['envoy-aws-use1', 'envoy-gcp-usc1']);
    const second = await verifyShares(deps, d, shares);
    expect(second).toEqual({ lagging: [{ proxy: 'envoy-aws-use1/envoy-aws-1', reason: 'has never polled' }], unverified: ['envoy-gcp-usc1'] });
  });
});
