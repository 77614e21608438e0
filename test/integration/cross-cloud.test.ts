/**
 * Cross-cloud, end to end on real parts: one version of a service registered from an EKS cluster
 * and a GKE cluster (endpoints discovered through the real SDKs against the fake cloud and
 * Kubernetes APIs on 127.0.0.1), stored in the registry on the embedded store, published as each
 * Envoy group's snapshot: the service shows endpoints from both clouds, and each proxy group
 * prefers its own cloud (priority 0) and fails over to the other (priority 1).
 */
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudClusterProvider } from '../../shared/adapters/clusters/cluster-provider.js';
import { createDynamoDbStores, type Stores } from '../../shared/adapters/dynamodb/stores.js';
import { sha256Hex } from '../../shared/adapters/system.js';
import type { ClusterConfig } from '../../shared/domain/config.js';
import type { ProxyGroup } from '../../shared/domain/mesh.js';
import { XdsType } from '../../shared/engine/envoy/snapshot.js';
import { describeService } from '../../shared/usecases/describe-service.js';
import { publishSnapshots } from '../../shared/usecases/publish-snapshots.js';
import { registerVersion } from '../../shared/usecases/register-version.js';
import { startFakeEks, type FakeEks } from '../support/fake-clouds/eks.js';
import { startFakeGke, type FakeGke } from '../support/fake-clouds/gke.js';
import { endpointSlice, startFakeKubernetes, type FakeKubernetes } from '../support/fake-clouds/kubernetes.js';
import { createTestCertificates } from '../support/fake-clouds/loopback.js';
import { CapturingLogger, FixedClock, InMemoryAuditLog, InMemoryServiceLockStore } from '../support/fakes.js';
import { embeddedBackend, type StoreBackend } from '../support/store-backends.js';

const clusters: ClusterConfig[] = [
  { name: 'eks-use1', cloud: 'aws', region: 'us-east-1', eksClusterName: 'prod-use1' },
  { name: 'gke-usc1', cloud: 'gcp', project: 'crossfade-test', location: 'us-central1', gkeClusterName: 'prod-usc1' },
];
const proxyGroups: ProxyGroup[] = [
  { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }] },
  { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [{ nodeId: 'envoy-gcp-1' }] },
];

let fakes: (FakeEks | FakeGke | FakeKubernetes)[] = [];
let provider: ReturnType<typeof createCloudClusterProvider>;
let backend: StoreBackend;
let stores: Stores;

beforeAll(async () => {
  const tls = createTestCertificates();
  const [eksApi, gkeApi, eksKubernetes] = await Promise.all([startFakeEks(), startFakeGke(), startFakeKubernetes(tls, { kind: 'eks', region: 'us-east-1' })]);
  const gkeKubernetes = await startFakeKubernetes(tls, { kind: 'bearer', token: gkeApi.accessToken });
  fakes = [eksApi, gkeApi, eksKubernetes, gkeKubernetes];
  eksApi.addCluster({ name: 'prod-use1', region: 'us-east-1', endpoint: eksKubernetes.url, caPem: tls.caPem });
  gkeApi.addCluster({ project: 'crossfade-test', location: 'us-central1', name: 'prod-usc1', endpoint: gkeKubernetes.hostPort, caPem: tls.caPem });
  const ports = [{ name: 'http', port: 8080 }];
  eksKubernetes.setSlices('checkout', 'checkout', [endpointSlice('checkout', { namespace: 'checkout', ports, endpoints: [{ address: '10.0.1.10', zone: 'us-east-1a' }, { address: '10.0.2.10', zone: 'us-east-1b' }] })]);
  gkeKubernetes.setSlices('checkout', 'checkout', [endpointSlice('checkout', { namespace: 'checkout', ports, endpoints: [{ address: '10.8.0.7', zone: 'us-central1-b' }] })]);

  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: gkeApi.accessToken, expiry_date: Date.now() + 3_600_000 });
  provider = createCloudClusterProvider({
    clusters,
    clock: new FixedClock(),
    eks: { endpoint: eksApi.endpoint, credentials: async () => ({ accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' }) },
    gke: { apiEndpoint: gkeApi.endpoint, auth },
  });
  backend = await embeddedBackend();
  stores = createDynamoDbStores(await backend.freshTable());
});

afterAll(async () => {
  await provider?.close();
  await Promise.all(fakes.map((fake) => fake.stop()));
  await backend?.stop();
});

describe('a service registered from both clouds', () => {
  it('shows endpoints from both, and each proxy group prefers its own cloud', async () => {
    const deps = {
      registry: stores.registry,
      snapshots: stores.snapshots,
      parts: stores.parts,
      clusterProvider: provider,
      audit: new InMemoryAuditLog(),
      locks: new InMemoryServiceLockStore(),
      clock: new FixedClock(),
      logger: new CapturingLogger(),
      clusters: [
        { name: 'eks-use1', cloud: 'aws' as const, region: 'us-east-1' },
        { name: 'gke-usc1', cloud: 'gcp' as const, region: 'us-central1' },
      ],
      proxyGroups,
      hash: sha256Hex,
    };
    const targets = clusters.map((c) => ({ cloud: c.cloud, cluster: c.name, namespace: 'checkout', kubernetesService: 'checkout', port: 8080 }));
    await registerVersion(deps, { service: 'checkout', version: 'v1', targets, actor: 'test' });

    const view = await describeService(deps, 'checkout');
    expect(view.versions[0]!.clusters.map((c) => [c.cloud, c.endpoints.map((e) => `${e.address}/${e.zone}`)])).toEqual([
      ['aws', ['10.0.1.10/us-east-1a', '10.0.2.10/us-east-1b']],
      ['gcp', ['10.8.0.7/us-central1-b']],
    ]);

    const published = await publishSnapshots(deps);
    expect(published.groups.map((g) => g.outcome)).toEqual(['published', 'published']);
    for (const [group, own, other] of [
      ['envoy-aws-use1', 'aws', 'gcp'],
      ['envoy-gcp-usc1', 'gcp', 'aws'],
    ] as const) {
      const head = (await stores.parts.head(group))!;
      const assignments = await stores.parts.resources(head, XdsType.Endpoint);
      const assignment = assignments.find((a) => a.name === 'checkout--v1')!.resource as { endpoints: { locality: { region: string }; priority?: number }[] };
      const priorityOf = (cloud: string) => [...new Set(assignment.endpoints.filter((e) => e.locality.region.startsWith(`${cloud}:`)).map((e) => e.priority ?? 0))];
      expect([group, priorityOf(own), priorityOf(other)]).toEqual([group, [0], [1]]);
    }
  });
});
