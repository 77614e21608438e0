/** After a registration, every proxy group is programmed and read back (shared/usecases/program-service.ts), on fakes of our own ports. */
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, ProxyCommandError } from '../../../shared/domain/errors.js';
import type { ProxyGroup, Split } from '../../../shared/domain/mesh.js';
import { carriesSplit, publishedSplit } from '../../../shared/engine/envoy/published-split.js';
import { XdsType } from '../../../shared/engine/envoy/snapshot.js';
import type { TrafficRouter, Verification, VersionEndpoints } from '../../../shared/ports/traffic-router.js';
import { describeService } from '../../../shared/usecases/describe-service.js';
import { programProxies } from '../../../shared/usecases/program-proxies.js';
import { programService } from '../../../shared/usecases/program-service.js';
import { registerVersion } from '../../../shared/usecases/register-version.js';
import { rejectionOf } from '../../support/errors.js';
import { fakeHttpDeps } from '../../support/fakes.js';
import { InMemoryMeshRegistry } from '../../support/mesh-fakes.js';

const GROUPS: readonly ProxyGroup[] = [
  { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }] },
  { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [] },
  { name: 'edge-down', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [{ name: 'down-1', runtimeApi: '10.0.9.1:9999' }] },
  { name: 'edge-up', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [{ name: 'up-1', runtimeApi: '10.0.9.2:9999' }] },
  { name: 'edge-none', kind: 'haproxy', cloud: 'gcp', region: 'us-central1', proxies: [] },
];

/** A router that serves what it was last given, per group, except in groups told to fail. */
class FakeRouter implements TrafficRouter {
  readonly applied: string[] = [];
  readonly serving = new Map<string, Split>();
  readonly failing = new Map<string, Error>();

  async applySplit(group: ProxyGroup, _service: string, _backend: readonly VersionEndpoints[], split: Split): Promise<void> {
    this.applied.push(group.name);
    const failure = this.failing.get(group.name);
    if (failure) throw failure;
    this.serving.set(group.name, split);
  }

  async verifySplit(group: ProxyGroup, _service: string, _backend: readonly VersionEndpoints[], split: Split): Promise<Verification> {
    const failure = this.failing.get(group.name);
    if (failure instanceof DependencyUnavailableError) return { state: 'unknown', reason: failure.message };
    const serving = this.serving.get(group.name);
    return JSON.stringify(serving) === JSON.stringify(split) ? { state: 'converged' } : { state: 'pending', lagging: [{ proxy: group.name, reason: `serves ${JSON.stringify(serving)}` }] };
  }
}

function deps() {
  const router = new FakeRouter();
  router.failing.set('edge-down', new DependencyUnavailableError('HAProxy down-1 at 10.0.9.1:9999', 'show servers state cf_checkout'));
  const d = { ...fakeHttpDeps(), registry: new InMemoryMeshRegistry(), proxyGroups: GROUPS, routers: { haproxy: router } };
  return { d, router };
}

/** checkout@v1 registered, then written past registration's checks: its endpoint in both clusters. */
async function withPoisonedCheckout() {
  const made = deps();
  await registerVersion(made.d, { service: 'checkout', version: 'v1', targets: [target('10.0.1.10')], actor: 'admin' });
  const [v1] = (await made.d.registry.getService('checkout'))!.versions;
  await made.d.registry.putVersion({ ...v1!, clusters: [...v1!.clusters, { cloud: 'gcp', cluster: 'gke-usc1', region: 'us-central1', endpoints: v1!.clusters[0]!.endpoints }], revision: 2 });
  return made;
}

const target = (address: string) => ({ cloud: 'aws' as const, cluster: 'eks-use1', namespace: 'checkout', kubernetesService: 'checkout', port: 8080, endpoints: [{ address, port: 8080, zone: null }] });

describe('programService', () => {
  it('programs every group at once and says, per group, what it serves; an unreachable one does not stop the others', async () => {
    const { d, router } = deps();
    await registerVersion(d, { service: 'checkout', version: 'v1', targets: [target('10.0.1.10')], actor: 'admin' });
    expect(await programService(d, 'checkout')).toEqual({
      'envoy-aws-use1': 'programmed',
      'envoy-gcp-usc1': 'unverified',
      'edge-down': 'unreachable: HAProxy down-1 at 10.0.9.1:9999: show servers state cf_checkout failed',
      'edge-up': 'programmed',
      'edge-none': 'unverified',
    });
    expect(router.applied).toEqual(['edge-down', 'edge-up', 'edge-none']);
    expect(router.serving.get('edge-up')).toEqual({ v1: 100 });
    for (const group of ['envoy-aws-use1', 'envoy-gcp-usc1']) {
      const routes = await d.parts.resources((await d.parts.head(group))!, XdsType.Route);
      expect(carriesSplit(publishedSplit(routes, 'checkout'), 'checkout', { v1: 100 })).toBe(true);
    }
    expect(d.logger.at('warn').find((l) => l.message.startsWith('proxy groups not programmed'))?.fields).toMatchObject({ service: 'checkout', groups: { 'edge-down': expect.stringMatching(/^unreachable/) } });
  });

  it('names a proxy that refused a command, and one that serves something else', async () => {
    const { d, router } = deps();
    router.failing.set('edge-down', new ProxyCommandError('HAProxy down-1 at 10.0.9.1:9999', 'add server cf_checkout/v1_10.0.1.10_8080', 'No such backend.'));
    await registerVersion(d, { service: 'checkout', version: 'v1', targets: [target('10.0.1.10')], actor: 'admin' });
    router.verifySplit = async (group) => (group.name === 'edge-up' ? { state: 'pending', lagging: [{ proxy: 'up-1', reason: 'server v1_10.0.1.10_8080 is in maint' }] } : { state: 'converged' });
    const outcomes = await programService(d, 'checkout');
    expect(outcomes['edge-down']).toBe('not programmed: ProxyCommandError: HAProxy down-1 at 10.0.9.1:9999 refused "add server cf_checkout/v1_10.0.1.10_8080": No such backend.');
    expect(outcomes['edge-up']).toBe('not programmed: up-1: server v1_10.0.1.10_8080 is in maint');
  });

  it('says an Envoy group refused a service whose endpoints break a rule, and why, and publishes nothing for it there', async () => {
    const { d } = await withPoisonedCheckout();
    const before = await d.parts.head('envoy-aws-use1');
    const outcomes = await programService(d, 'checkout');
    // The Envoy router refuses what HAProxy's would (domain/router-arguments.ts): the endpoint twice in one version.
    expect(outcomes['envoy-aws-use1']).toBe('not programmed: ValidationError: 10.0.1.10:8080 is listed twice for version v1');
    expect(await d.parts.head('envoy-aws-use1')).toEqual(before);
    expect(outcomes['edge-up']).toBe('programmed');
  });

  it('answers nothing for a service with nothing registered', async () => {
    const { d, router } = deps();
    expect(await programService(d, 'ghost')).toEqual({});
    expect(router.applied).toEqual([]);
  });
});

describe('programProxies', () => {
  it('tries every HAProxy group, then throws the error of one that failed', async () => {
    const { d, router } = deps();
    await registerVersion(d, { service: 'checkout', version: 'v1', targets: [target('10.0.1.10')], actor: 'admin' });
    expect(await rejectionOf(programProxies(d, 'checkout'))).toMatchObject({ name: 'DependencyUnavailableError' });
    expect(router.applied).toEqual(['edge-down', 'edge-up', 'edge-none']);
    expect(router.serving.get('edge-up')).toEqual({ v1: 100 });
  });
});

describe('describeService: verification and isolation', () => {
  it('says per group whether its proxies serve the split, and `unverified` for a group that lists none', async () => {
    const { d } = deps();
    await registerVersion(d, { service: 'checkout', version: 'v1', targets: [target('10.0.1.10')], actor: 'admin' });
    await programService(d, 'checkout');
    const view = await describeService(d, 'checkout');
    expect(view.verification).toEqual({
      'envoy-aws-use1': { state: 'pending', lagging: [{ proxy: 'envoy-aws-1', reason: 'has never polled' }] },
      'envoy-gcp-usc1': { state: 'unverified', reason: expect.stringContaining('lists no Envoy node ids') },
      'edge-down': { state: 'unknown', reason: expect.stringContaining('HAProxy down-1') },
      'edge-up': { state: 'converged' },
      'edge-none': { state: 'unverified', reason: expect.stringContaining('lists no HAProxy instances') },
    });
    expect(view.isolated).toBeUndefined();
  });

  it('names the Envoy groups a service is isolated from, with the rule', async () => {
    const { d } = await withPoisonedCheckout();
    const view = await describeService(d, 'checkout');
    const expected = { rule: 'duplicate-endpoint', field: 'ClusterLoadAssignment/checkout--v1', reason: expect.stringContaining('endpoint 10.0.1.10:8080 appears more than once') };
    expect(view.isolated).toEqual({ 'envoy-aws-use1': expected, 'envoy-gcp-usc1': expected });
  });
});
