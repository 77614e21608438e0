/**
 * Reconciliation on real parts: the registry on the embedded DynamoDB store, three real HAProxy
 * instances in one proxy group, endpoints discovered through a ClusterProvider that tests move
 * (pods rescheduled). Drift is repaired; a second run in a row changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyTrafficRouter } from '../../shared/adapters/haproxy/haproxy-router.js';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { sha256Hex } from '../../shared/adapters/system.js';
import type { Endpoint, ProxyGroup } from '../../shared/domain/mesh.js';
import { reconcileMesh, type ReconcileDeps } from '../../shared/usecases/reconcile-mesh.js';
import { registerVersion } from '../../shared/usecases/register-version.js';
import { ALLOW_LOOPBACK } from '../support/mesh-builders.js';
import { CapturingLogger, FixedClock } from '../support/fakes.js';
import { InMemoryServiceLockStore, InMemoryAuditLog } from '../support/fakes.js';
import { adminCommand, startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { startHttpBackends, type HttpBackends } from '../support/http-backends.js';
import { embeddedBackend, type StoreBackend } from '../support/store-backends.js';
import { StaticClusterProvider } from '../support/mesh-fakes.js';

let backend: StoreBackend;
let pods: HttpBackends;
let edges: HaproxyInstance[] = [];
let deps: ReconcileDeps;
let discovered: Record<string, Endpoint[]>;

const target = (version: string) => ({ cloud: 'aws' as const, cluster: 'eks-use1', namespace: 'checkout', kubernetesService: `checkout-${version}`, port: 8080 });

beforeAll(async () => {
  backend = await embeddedBackend();
  pods = await startHttpBackends(['v1-a', 'v1-b', 'v2-a', 'v2-b', 'v2-c']);
  edges = await Promise.all(['edge-1', 'edge-2', 'edge-3'].map((name) => startHaproxy(name, [{ name: 'cf_checkout' }])));
  const group: ProxyGroup = { name: 'edge-use1', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: edges.map((e) => e.proxy) };
  discovered = {
    'eks-use1/checkout/checkout-v1': [pods.endpointOf('v1-a'), pods.endpointOf('v1-b')],
    'eks-use1/checkout/checkout-v2': [pods.endpointOf('v2-a'), pods.endpointOf('v2-b')],
  };
  const { registry, snapshots, parts } = createDynamoDbStores(await backend.freshTable());
  deps = {
    registry,
    // The test's own ClusterProvider (discovery is specified in cluster-discovery.test.ts): it
    // lets a test move pods the way a rescheduling cluster does.
    clusterProvider: { discoverEndpoints: (t) => new StaticClusterProvider(discovered).discoverEndpoints(t) },
    audit: new InMemoryAuditLog(),
    locks: new InMemoryServiceLockStore(),
    clock: new FixedClock(),
    logger: new CapturingLogger(),
    clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
    proxyGroups: [group],
    // The pods listen on 127.0.0.1, which registration refuses unless allowed.
    allowedEndpointCidrs: ALLOW_LOOPBACK,
    routers: { haproxy: new HaproxyTrafficRouter({ retryDelayMs: 10 }) },
    snapshots,
    parts,
    hash: sha256Hex,
  };
  await registerVersion(deps, { service: 'checkout', version: 'v1', targets: [target('v1')], actor: 'test' });
  await registerVersion(deps, { service: 'checkout', version: 'v2', targets: [target('v2')], actor: 'test' });
  const state = await registry.getService('checkout');
  const split = state!.splits[0]!;
  await registry.putSplit({ ...split, weights: { v1: 90, v2: 10 }, revision: split.revision + 1 });
});

afterAll(async () => {
  await Promise.all(edges.map((e) => e.stop()));
  await pods?.stop();
  await backend?.stop();
});

describe('reconcileMesh', () => {
  it('puts the split into proxies that never had it, then finds nothing to do', async () => {
    const first = await reconcileMesh(deps, {});
    expect(first.services[0]!.actions).toEqual([{ kind: 'split-reapplied', proxyGroup: 'edge-use1', converged: true }]);
    expect(first.services[0]!.findings.filter((f) => f.kind === 'proxy-drift').map((f) => (f as { proxy: string }).proxy).sort()).toEqual(['edge-1', 'edge-2', 'edge-3']);

    const second = await reconcileMesh(deps, {});
    expect(second.services).toEqual([{ service: 'checkout', findings: [], actions: [] }]);
  });

  it('repairs a weight changed by hand on one instance and names it', async () => {
    const servers = await adminCommand(edges[1]!.adminPort, 'show servers state cf_checkout');
    const v2Server = servers.split('\n').find((line) => line.includes(' v2_'))!.split(' ')[3]!;
    await adminCommand(edges[1]!.adminPort, `set server cf_checkout/${v2Server} weight 200`);

    const report = await reconcileMesh(deps, { service: 'checkout' });
    const drift = report.services[0]!.findings.filter((f) => f.kind === 'proxy-drift');
    expect(drift.map((f) => (f as { proxy: string }).proxy)).toEqual(['edge-2']);
    expect(report.services[0]!.actions).toEqual([{ kind: 'split-reapplied', proxyGroup: 'edge-use1', converged: true }]);
    expect((await reconcileMesh(deps, {})).summary).toEqual({ services: 1, drifted: 0, repaired: 0, failed: 0, isolated: 0, unverifiedGroups: 0 });
  });

  it('repairs an instance restarted without its runtime state', async () => {
    await edges[2]!.restart();
    const report = await reconcileMesh(deps, {});
    expect(report.services[0]!.findings.map((f) => f.kind)).toContain('proxy-drift');
    expect(report.services[0]!.actions).toEqual([{ kind: 'split-reapplied', proxyGroup: 'edge-use1', converged: true }]);
    expect((await reconcileMesh(deps, {})).summary.drifted).toBe(0);
  });

  it('follows pods the cluster rescheduled: the registration and every proxy are updated', async () => {
    discovered['eks-use1/checkout/checkout-v2'] = [pods.endpointOf('v2-b'), pods.endpointOf('v2-c')];
    const report = await reconcileMesh(deps, {});
    expect(report.services[0]!.findings[0]).toEqual({ kind: 'endpoints-changed', version: 'v2', cluster: 'eks-use1', before: 2, after: 2 });
    expect(report.services[0]!.actions).toEqual([
      { kind: 'registration-updated', version: 'v2', revision: 2 },
      { kind: 'split-reapplied', proxyGroup: 'edge-use1', converged: expect.any(Boolean) },
    ]);
    const state = await deps.registry.getService('checkout');
    expect(state!.versions.find((v) => v.version === 'v2')!.clusters[0]!.endpoints.map((e) => e.port)).toEqual([pods.endpointOf('v2-b').port, pods.endpointOf('v2-c').port].sort((a, b) => a - b));
  });

  it('keeps a registration whose rediscovered endpoints registration would refuse, and says why', async () => {
    const before = await deps.registry.getService('checkout');
    const moved = discovered['eks-use1/checkout/checkout-v2']!;
    discovered['eks-use1/checkout/checkout-v2'] = [...moved, { address: '169.254.169.254', port: 80, zone: null }];
    try {
      const report = await reconcileMesh(deps, {});
      expect(report.services[0]!.findings).toEqual([
        { kind: 'endpoints-refused', version: 'v2', cluster: 'eks-use1', rule: 'no-cloud-metadata', reason: expect.stringContaining('169.254.169.254 is a cloud-metadata address') },
      ]);
      expect(report.services[0]!.actions).toEqual([]);
      expect(await deps.registry.getService('checkout')).toEqual(before);
    } finally {
      discovered['eks-use1/checkout/checkout-v2'] = moved;
    }
  });

  it('reports an unreachable instance without claiming anything, and carries on', async () => {
    await edges[0]!.stop();
    const report = await reconcileMesh(deps, {});
    expect(report.services[0]!.findings).toContainEqual({ kind: 'proxy-unreachable', proxyGroup: 'edge-use1', reason: expect.stringContaining('edge-1') });
    expect(report.services[0]!.actions).toEqual([]);
  });
});
