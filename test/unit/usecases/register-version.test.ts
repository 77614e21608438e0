/** Registering and deregistering versions in the mesh, and describing a service, on fakes. */
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../../shared/domain/endpoint-address.js';
import { DependencyUnavailableError, VersionConflictError } from '../../../shared/domain/errors.js';
import { deregisterVersion } from '../../../shared/usecases/deregister-version.js';
import { describeService } from '../../../shared/usecases/describe-service.js';
import { registerVersion, type RegistrationTarget } from '../../../shared/usecases/register-version.js';
import { rejectionOf } from '../../support/errors.js';
import { fakeHttpDeps, type FakeHttpDeps } from '../../support/fakes.js';
import { InMemoryMeshRegistry, StaticClusterProvider } from '../../support/mesh-fakes.js';

const aws = (endpoints?: RegistrationTarget['endpoints']): RegistrationTarget => ({
  cloud: 'aws',
  cluster: 'eks-use1',
  namespace: 'checkout',
  kubernetesService: 'checkout-v42',
  port: 8080,
  ...(endpoints ? { endpoints } : {}),
});
const gcp: RegistrationTarget = { cloud: 'gcp', cluster: 'gke-usc1', namespace: 'checkout', kubernetesService: 'checkout-v42', port: 8080 };

function deps(overrides: Partial<FakeHttpDeps> = {}) {
  const registry = new InMemoryMeshRegistry();
  const clusterProvider = new StaticClusterProvider({
    'eks-use1/checkout/checkout-v42': [{ address: '10.0.1.11', port: 8080, zone: 'us-east-1b' }, { address: '10.0.1.10', port: 8080, zone: 'us-east-1a' }],
    'gke-usc1/checkout/checkout-v42': [{ address: '10.8.0.7', port: 8080, zone: 'us-central1-b' }],
  });
  return { ...fakeHttpDeps(), registry, clusterProvider, ...overrides };
}

describe('registerVersion', () => {
  it("registers a service's first version with endpoints discovered in both clouds; it serves everything", async () => {
    const d = deps();
    const { registration, outcome } = await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws(), gcp], actor: 'admin' });
    expect(outcome).toBe('created');
    expect(registration.clusters).toEqual([
      { cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address: '10.0.1.10', port: 8080, zone: 'us-east-1a' }, { address: '10.0.1.11', port: 8080, zone: 'us-east-1b' }] },
      { cloud: 'gcp', cluster: 'gke-usc1', region: 'us-central1', endpoints: [{ address: '10.8.0.7', port: 8080, zone: 'us-central1-b' }] },
    ]);
    const view = await describeService(d, 'checkout');
    expect(view.weights).toEqual({ 'envoy-aws-use1': { v41: 100 }, 'haproxy-gcp-usc1': { v41: 100 } });
  });

  it('a later version enters every proxy group at 0%', async () => {
    const d = deps();
    await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' });
    await registerVersion(d, { service: 'checkout', version: 'v42', targets: [aws(), gcp], actor: 'admin' });
    const view = await describeService(d, 'checkout');
    expect(view.weights).toEqual({ 'envoy-aws-use1': { v41: 100, v42: 0 }, 'haproxy-gcp-usc1': { v41: 100, v42: 0 } });
    expect(view.versions.map((v) => v.version)).toEqual(['v41', 'v42']);
  });

  it('is idempotent: the same registration again writes nothing and records no second event', async () => {
    const d = deps();
    await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' });
    const writes = (d.registry as InMemoryMeshRegistry).writes;
    const events = (await d.audit.list('service/checkout', { limit: 10 })).items.length;
    const again = await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' });
    expect(again.outcome).toBe('unchanged');
    expect((d.registry as InMemoryMeshRegistry).writes).toBe(writes);
    expect((await d.audit.list('service/checkout', { limit: 10 })).items).toHaveLength(events);
  });

  it('takes explicit endpoints instead of discovering, and updates a registration whose endpoints changed', async () => {
    const d = deps();
    await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws([{ address: '10.0.9.1', port: 9090, zone: null }])], actor: 'admin' });
    expect((d.clusterProvider as StaticClusterProvider).calls).toEqual([]);
    const { outcome, registration } = await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws([{ address: '10.0.9.2', port: 9090, zone: null }])], actor: 'admin' });
    expect(outcome).toBe('updated');
    expect(registration.revision).toBe(2);
  });

  it('retries a lost race, and gives up after three', async () => {
    const d = deps();
    (d.registry as InMemoryMeshRegistry).failNext('putVersion', new VersionConflictError('registration', 0));
    expect((await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' })).outcome).toBe('created');

    const e = deps();
    for (let i = 0; i < 3; i++) (e.registry as InMemoryMeshRegistry).failNext('putVersion', new VersionConflictError('registration', 0));
    expect(await rejectionOf(registerVersion(e, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' }))).toBeInstanceOf(VersionConflictError);
  });

  it('a cluster API that keeps failing leaves the registry untouched, with the retryable error', async () => {
    const failing = { discoverEndpoints: () => Promise.reject(new DependencyUnavailableError('Kubernetes API of cluster eks-use1', 'list EndpointSlices of checkout/checkout-v42')) };
    const d = deps({ clusterProvider: failing });
    const error = await rejectionOf(registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' }));
    expect(error).toMatchObject({ name: 'DependencyUnavailableError', retryable: true });
    expect((error as Error).message).toContain('eks-use1');
    expect((d.registry as InMemoryMeshRegistry).writeAttempts).toBe(0);
  });

  it('refuses bad input before anything is discovered or written', async () => {
    const cases: [RegistrationTarget[], Record<string, unknown>][] = [
      [[{ ...aws(), cluster: 'eks-euw1' }], { field: 'targets[0].cluster', rule: 'known-cluster' }],
      [[{ ...aws(), cloud: 'gcp' }], { field: 'targets[0].cloud', rule: 'cluster-cloud' }],
      [[aws([{ address: 'checkout.internal', port: 8080, zone: null }])], { field: 'targets[0].endpoints[0].address', rule: 'ip-address' }],
      [[aws([{ address: '10.0.0.1', port: 0, zone: null }])], { field: 'targets[0].endpoints[0].port', rule: 'port' }],
      [[aws([{ address: '10.0.0.1', port: 65536, zone: null }])], { field: 'targets[0].endpoints[0].port', rule: 'port' }],
    ];
    for (const [targets, expected] of cases) {
      const d = deps();
      expect(await rejectionOf(registerVersion(d, { service: 'checkout', version: 'v41', targets, actor: 'admin' }))).toMatchObject({ name: 'ValidationError', ...expected });
      expect((d.registry as InMemoryMeshRegistry).writeAttempts).toBe(0);
      expect((d.clusterProvider as StaticClusterProvider).calls).toEqual([]);
    }
  });

  const gcpWith = (endpoints: RegistrationTarget['endpoints']): RegistrationTarget => ({ ...gcp, endpoints });
  const at = (address: string, port = 8080) => ({ address, port, zone: null });

  it.each([
    ['a loopback address', [aws([at('127.0.0.1')])], 'targets[0].endpoints[0].address', 'no-loopback'],
    ['an IPv6 loopback address', [aws([at('10.0.0.1'), at('::1')])], 'targets[0].endpoints[1].address', 'no-loopback'],
    ['a link-local address', [aws([at('169.254.7.7')])], 'targets[0].endpoints[0].address', 'no-link-local'],
    ['an IPv6 link-local address', [aws([at('fe80::1')])], 'targets[0].endpoints[0].address', 'no-link-local'],
    ['the unspecified address', [aws([at('0.0.0.0')])], 'targets[0].endpoints[0].address', 'no-unspecified'],
    ['a multicast address', [aws([at('ff02::1')])], 'targets[0].endpoints[0].address', 'no-multicast'],
    ['the metadata service', [aws([at('169.254.169.254', 80)])], 'targets[0].endpoints[0].address', 'no-cloud-metadata'],
    ['the IPv6 metadata service', [aws([at('fd00:ec2::254', 80)])], 'targets[0].endpoints[0].address', 'no-cloud-metadata'],
    ['an endpoint twice in one cluster', [aws([at('10.0.0.1'), at('10.0.0.1')])], 'targets[0].endpoints[1]', 'endpoint-unique'],
    ['an endpoint in both clusters', [aws([at('10.60.0.9')]), gcpWith([at('10.60.0.9')])], 'targets[1].endpoints[0]', 'endpoint-unique'],
  ])('refuses %s, before anything is discovered or written', async (_name, given, field, rule) => {
    const d = deps();
    // A second cluster to discover, where the case leaves one: nothing is discovered either.
    const targets = given.length === 1 ? [...given, gcp] : given;
    expect(await rejectionOf(registerVersion(d, { service: 'checkout', version: 'v9', targets, actor: 'admin' }))).toMatchObject({ name: 'ValidationError', field, rule });
    expect((d.registry as InMemoryMeshRegistry).writeAttempts).toBe(0);
    expect((d.clusterProvider as StaticClusterProvider).calls).toEqual([]);
  });

  it('checks discovered endpoints as given ones: an address class, or one given in another cluster', async () => {
    const d = deps({
      clusterProvider: new StaticClusterProvider({
        'eks-use1/checkout/checkout-v42': [at('10.0.1.10'), at('169.254.169.254')],
        'gke-usc1/checkout/checkout-v42': [at('10.0.1.10')],
      }),
    });
    expect(await rejectionOf(registerVersion(d, { service: 'checkout', version: 'v9', targets: [aws()], actor: 'admin' }))).toMatchObject({ field: 'targets[0].discovered[1].address', rule: 'no-cloud-metadata' });
    expect(await rejectionOf(registerVersion(d, { service: 'checkout', version: 'v9', targets: [aws([at('10.0.1.10')]), gcp], actor: 'admin' }))).toMatchObject({
      field: 'targets[1].discovered[0]',
      rule: 'endpoint-unique',
    });
    expect((d.registry as InMemoryMeshRegistry).writeAttempts).toBe(0);
  });

  it('registers what crossfade.yaml mesh.allowedEndpointCidrs allows', async () => {
    const d = deps({ allowedEndpointCidrs: [parseCidr('127.0.0.0/8')!] });
    expect((await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws([at('127.0.0.1', 9001)])], actor: 'admin' })).outcome).toBe('created');
    expect(await rejectionOf(registerVersion(d, { service: 'checkout', version: 'v42', targets: [aws([at('::1', 9001)])], actor: 'admin' }))).toMatchObject({ rule: 'no-loopback' });
  });

  it('keeps the fencing token of a split it rewrites (a field registration does not own)', async () => {
    const d = deps();
    await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' });
    const registry = d.registry as InMemoryMeshRegistry;
    const [split] = (await registry.getService('checkout'))!.splits;
    await registry.putSplit({ ...split!, revision: split!.revision + 1, fencingToken: 7 });
    await registerVersion(d, { service: 'checkout', version: 'v42', targets: [aws()], actor: 'admin' });
    const after = (await registry.getService('checkout'))!.splits.find((s) => s.proxyGroup === split!.proxyGroup)!;
    expect(after).toMatchObject({ weights: { v41: 100, v42: 0 }, fencingToken: 7 });
  });
});

describe('deregisterVersion', () => {
  it('refuses (409 naming the proxy group) a version that carries traffic, writing nothing', async () => {
    const d = deps();
    await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' });
    const writes = (d.registry as InMemoryMeshRegistry).writeAttempts;
    const error = await rejectionOf(deregisterVersion(d, { service: 'checkout', version: 'v41', actor: 'admin' }));
    expect(error).toMatchObject({ name: 'ConflictError', holder: 'envoy-aws-use1' });
    expect((error as Error).message).toContain('carries 100% of traffic in proxy group envoy-aws-use1');
    expect((d.registry as InMemoryMeshRegistry).writeAttempts).toBe(writes);
  });

  it('removes a version at 0% from every split, and is idempotent', async () => {
    const d = deps();
    await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' });
    await registerVersion(d, { service: 'checkout', version: 'v42', targets: [aws()], actor: 'admin' });
    expect(await deregisterVersion(d, { service: 'checkout', version: 'v42', actor: 'admin' })).toBe('deregistered');
    expect(await deregisterVersion(d, { service: 'checkout', version: 'v42', actor: 'admin' })).toBe('not-registered');
    const view = await describeService(d, 'checkout');
    expect(view.versions.map((v) => v.version)).toEqual(['v41']);
    expect(view.weights).toEqual({ 'envoy-aws-use1': { v41: 100 }, 'haproxy-gcp-usc1': { v41: 100 } });
  });

  it('refuses while a deployment holds the service, naming it', async () => {
    const d = deps();
    await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' });
    await registerVersion(d, { service: 'checkout', version: 'v42', targets: [aws()], actor: 'admin' });
    await d.locks.acquire({ service: 'checkout', owner: 'dep_1', now: d.clock.now(), leaseMs: 60_000 });
    expect(await rejectionOf(deregisterVersion(d, { service: 'checkout', version: 'v42', actor: 'admin' }))).toMatchObject({ name: 'ConflictError', holder: 'dep_1' });
  });
});

describe('describeService', () => {
  it('404s a service with nothing registered', async () => {
    expect(await rejectionOf(describeService(deps(), 'ghost'))).toMatchObject({ name: 'NotFoundError' });
  });

  it("lists each proxy group's proxies, none acknowledged yet", async () => {
    const d = deps();
    await registerVersion(d, { service: 'checkout', version: 'v41', targets: [aws()], actor: 'admin' });
    expect((await describeService(d, 'checkout')).proxies).toEqual({
      'envoy-aws-use1': [{ proxy: 'envoy-aws-1', acknowledgedVersion: null }],
      'haproxy-gcp-usc1': [{ proxy: 'edge-1', acknowledgedVersion: null }],
    });
  });
});
