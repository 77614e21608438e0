/**
 * Discovery through the real SDKs (@aws-sdk/client-eks, @google-cloud/container, google-auth-library)
 * against fakes of the EKS, GKE and Kubernetes APIs on 127.0.0.1 that speak the real wire formats,
 * the Kubernetes ones over real TLS with a test CA (shared/adapters/clusters/).
 */
import { OAuth2Client } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCloudClusterProvider } from '../../shared/adapters/clusters/cluster-provider.js';
import { awsCredentialsFor, googleAuthFor } from '../../shared/adapters/clusters/credentials.js';
import type { ClusterConfig } from '../../shared/domain/config.js';
import { ClusterAuthError, DependencyUnavailableError, MissingCredentialsError, NotFoundError } from '../../shared/domain/errors.js';
import type { VersionTarget } from '../../shared/domain/mesh.js';
import { startFakeEks, type FakeEks } from '../support/fake-clouds/eks.js';
import { startFakeGke, type FakeGke } from '../support/fake-clouds/gke.js';
import { endpointSlice, startFakeKubernetes, type FakeKubernetes } from '../support/fake-clouds/kubernetes.js';
import { createTestCertificates } from '../support/fake-clouds/loopback.js';
import { rejectionOf } from '../support/errors.js';

const clusters: ClusterConfig[] = [
  { name: 'eks-use1', cloud: 'aws', region: 'us-east-1', eksClusterName: 'prod-use1' },
  { name: 'eks-gone', cloud: 'aws', region: 'us-east-1', eksClusterName: 'deleted-cluster' },
  { name: 'eks-other-ca', cloud: 'aws', region: 'us-east-1', eksClusterName: 'rotated-ca' },
  { name: 'gke-usc1', cloud: 'gcp', project: 'crossfade-test', location: 'us-central1', gkeClusterName: 'prod-usc1' },
];

const MAX_ATTEMPTS = 3;
const T0 = Date.parse('2025-06-01T12:00:00Z');

let eksApi: FakeEks;
let gkeApi: FakeGke;
let eksKubernetes: FakeKubernetes;
let gkeKubernetes: FakeKubernetes;
let nowMs = T0;
let provider: ReturnType<typeof createCloudClusterProvider> | undefined;

beforeAll(async () => {
  const tls = createTestCertificates();
  [eksApi, gkeApi, eksKubernetes] = await Promise.all([startFakeEks(), startFakeGke(), startFakeKubernetes(tls, { kind: 'eks', region: 'us-east-1' })]);
  gkeKubernetes = await startFakeKubernetes(tls, { kind: 'bearer', token: gkeApi.accessToken });
  eksApi.addCluster({ name: 'prod-use1', region: 'us-east-1', endpoint: eksKubernetes.url, caPem: tls.caPem });
  eksApi.addCluster({ name: 'rotated-ca', region: 'us-east-1', endpoint: eksKubernetes.url, caPem: tls.otherCaPem });
  gkeApi.addCluster({ project: 'crossfade-test', location: 'us-central1', name: 'prod-usc1', endpoint: gkeKubernetes.hostPort, caPem: tls.caPem });
});

afterEach(async () => {
  await provider?.close();
  provider = undefined;
  nowMs = T0;
  for (const fake of [eksApi, gkeApi, eksKubernetes, gkeKubernetes]) fake.reset();
});

afterAll(async () => {
  await Promise.all([eksApi, gkeApi, eksKubernetes, gkeKubernetes].map((fake) => fake?.stop()));
});

/** A provider with empty caches, as after a cold start, wired to the fakes. */
function discovery() {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: gkeApi.accessToken, expiry_date: Date.now() + 3_600_000 });
  provider = createCloudClusterProvider({
    clusters,
    clock: { now: () => new Date(nowMs) },
    eks: { endpoint: eksApi.endpoint, credentials: async () => ({ accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret' }) },
    gke: { apiEndpoint: gkeApi.endpoint, auth },
    kubernetes: { maxAttempts: MAX_ATTEMPTS, attemptTimeoutMs: 300, backoffBaseMs: 1 },
  });
  return provider;
}

function target(cluster: string, overrides: Partial<VersionTarget> = {}): VersionTarget {
  const cloud = clusters.find((c) => c.name === cluster)?.cloud ?? 'aws';
  return { cloud, cluster, namespace: 'checkout', kubernetesService: 'checkout-v42', port: 8080, ...overrides };
}

const httpPort = [{ name: 'http', port: 8080 }];

function serveCheckout(kubernetes: FakeKubernetes, endpoints: { address: string; zone: string; ready?: boolean }[]): void {
  kubernetes.setSlices('checkout', 'checkout-v42', [endpointSlice('checkout-v42', { namespace: 'checkout', ports: httpPort, endpoints })]);
}

describe('discovering a version through EKS and the Kubernetes API', () => {
  it('gives the ready endpoints with their zones', async () => {
    serveCheckout(eksKubernetes, [{ address: '10.0.2.7', zone: 'us-east-1b', ready: true }, { address: '10.0.1.5', zone: 'us-east-1a', ready: true }]);

    const endpoints = await discovery().discoverEndpoints(target('eks-use1'));

    expect(endpoints).toEqual([
      { address: '10.0.1.5', port: 8080, zone: 'us-east-1a' },
      { address: '10.0.2.7', port: 8080, zone: 'us-east-1b' },
    ]);
  });

  it('asks EKS for the configured EKS name, signed for eks in the region, and lists slices by service label', async () => {
    serveCheckout(eksKubernetes, [{ address: '10.0.1.5', zone: 'us-east-1a' }]);

    await discovery().discoverEndpoints(target('eks-use1'));

    expect(eksApi.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /clusters/prod-use1']);
    expect(eksApi.requests[0]!.headers.authorization).toMatch(/Credential=AKIAFAKEFAKEFAKE\/\d{8}\/us-east-1\/eks\/aws4_request/);
    const list = eksKubernetes.requests[0]!;
    expect(list.path).toBe('/apis/discovery.k8s.io/v1/namespaces/checkout/endpointslices');
    expect(list.query.get('labelSelector')).toBe('kubernetes.io/service-name=checkout-v42');
    expect(list.headers.authorization).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
  });
});

describe('discovering a version through GKE and the Kubernetes API', () => {
  it('gives the ready endpoints with their zones', async () => {
    serveCheckout(gkeKubernetes, [{ address: '10.8.0.12', zone: 'us-central1-a' }, { address: '10.8.1.3', zone: 'us-central1-c' }]);

    const endpoints = await discovery().discoverEndpoints(target('gke-usc1'));

    expect(endpoints).toEqual([
      { address: '10.8.0.12', port: 8080, zone: 'us-central1-a' },
      { address: '10.8.1.3', port: 8080, zone: 'us-central1-c' },
    ]);
    expect(gkeApi.requests.map((r) => r.path)).toEqual(['/v1/projects/crossfade-test/locations/us-central1/clusters/prod-usc1']);
    expect(gkeApi.requests[0]!.headers.authorization).toBe(`Bearer ${gkeApi.accessToken}`);
    expect(gkeKubernetes.requests[0]!.headers.authorization).toBe(`Bearer ${gkeApi.accessToken}`);
  });

  it('one service registered from both clouds shows endpoints from both', async () => {
    serveCheckout(eksKubernetes, [{ address: '10.0.1.5', zone: 'us-east-1a' }]);
    serveCheckout(gkeKubernetes, [{ address: '10.8.0.12', zone: 'us-central1-a' }]);
    const provider = discovery();

    const [aws, gcp] = await Promise.all([provider.discoverEndpoints(target('eks-use1')), provider.discoverEndpoints(target('gke-usc1'))]);

    expect([...aws!, ...gcp!].map((e) => e.zone)).toEqual(['us-east-1a', 'us-central1-a']);
  });
});

describe('reading EndpointSlices', () => {
  it('keeps ready endpoints and those whose readiness is unknown; skips not-ready ones, FQDN slices, other ports and duplicates', async () => {
    eksKubernetes.setSlices('checkout', 'checkout-v42', [
      endpointSlice('checkout-v42', { namespace: 'checkout', ports: httpPort, endpoints: [
        { address: '10.0.1.5', zone: 'us-east-1a', ready: true },
        { address: '10.0.1.6', zone: 'us-east-1a', ready: false },
        { address: '10.0.1.7', zone: 'us-east-1b' },
      ] }),
      endpointSlice('checkout-v42', { namespace: 'checkout', ports: httpPort, endpoints: [{ address: '10.0.1.5', zone: 'us-east-1a', ready: true }] }),
      endpointSlice('checkout-v42', { namespace: 'checkout', addressType: 'IPv6', ports: httpPort, endpoints: [{ address: 'fd00::5', zone: 'us-east-1c', ready: true }] }),
      endpointSlice('checkout-v42', { namespace: 'checkout', addressType: 'FQDN', ports: httpPort, endpoints: [{ address: 'checkout.example.com', ready: true }] }),
      endpointSlice('checkout-v42', { namespace: 'checkout', ports: [{ name: 'metrics', port: 9090 }], endpoints: [{ address: '10.0.9.9', ready: true }] }),
    ]);

    const endpoints = await discovery().discoverEndpoints(target('eks-use1'));

    expect(endpoints).toEqual([
      { address: '10.0.1.5', port: 8080, zone: 'us-east-1a' },
      { address: '10.0.1.7', port: 8080, zone: 'us-east-1b' },
      { address: 'fd00::5', port: 8080, zone: 'us-east-1c' },
    ]);
  });

  it('answers [] for a Service that exists with no ready endpoint', async () => {
    eksKubernetes.setSlices('checkout', 'checkout-v42', [
      endpointSlice('checkout-v42', { namespace: 'checkout', ports: [], endpoints: [] }),
      endpointSlice('checkout-v42', { namespace: 'checkout', ports: httpPort, endpoints: [{ address: '10.0.1.6', zone: 'us-east-1a', ready: false }] }),
    ]);

    expect(await discovery().discoverEndpoints(target('eks-use1'))).toEqual([]);
  });

  it('refuses a Service with no EndpointSlice at all, naming it and the cluster', async () => {
    const error = await rejectionOf(discovery().discoverEndpoints(target('eks-use1', { kubernetesService: 'no-such-service' })));

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain('cluster eks-use1');
    expect((error as Error).message).toContain('checkout/no-such-service');
  });

  it("refuses a port the Service's endpoints do not have, listing the ones they do", async () => {
    serveCheckout(eksKubernetes, [{ address: '10.0.1.5', zone: 'us-east-1a' }]);

    const error = await rejectionOf(discovery().discoverEndpoints(target('eks-use1', { port: 80 })));

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toMatch(/no endpoint port 80 \(its EndpointSlices list 8080\)/);
  });

  it('follows continue tokens across pages', async () => {
    const slices = Array.from({ length: 5 }, (_, i) =>
      endpointSlice('checkout-v42', { namespace: 'checkout', ports: httpPort, endpoints: [{ address: `10.0.3.${i + 1}`, zone: 'us-east-1a', ready: true }] }),
    );
    eksKubernetes.setSlices('checkout', 'checkout-v42', slices);
    eksKubernetes.setPageSize(2);

    const endpoints = await discovery().discoverEndpoints(target('eks-use1'));

    expect(endpoints.map((e) => e.address)).toEqual(['10.0.3.1', '10.0.3.2', '10.0.3.3', '10.0.3.4', '10.0.3.5']);
    expect(eksKubernetes.requests.map((r) => r.query.has('continue'))).toEqual([false, true, true]);
  });

  it('lists again from the start once when a continue token has expired (410)', async () => {
    const slices = Array.from({ length: 3 }, (_, i) =>
      endpointSlice('checkout-v42', { namespace: 'checkout', ports: httpPort, endpoints: [{ address: `10.0.4.${i + 1}`, zone: 'us-east-1a', ready: true }] }),
    );
    eksKubernetes.setSlices('checkout', 'checkout-v42', slices);
    eksKubernetes.setPageSize(2);
    eksKubernetes.queueFaults({ kind: 'pass' }, { kind: 'status', status: 410 });

    const endpoints = await discovery().discoverEndpoints(target('eks-use1'));

    expect(endpoints.map((e) => e.address)).toEqual(['10.0.4.1', '10.0.4.2', '10.0.4.3']);
    expect(eksKubernetes.requests.map((r) => r.query.has('continue'))).toEqual([false, true, false, true]);
  });
});

describe('faults at the Kubernetes API', () => {
  it('retries 500s and succeeds when the API recovers', async () => {
    serveCheckout(eksKubernetes, [{ address: '10.0.1.5', zone: 'us-east-1a' }]);
    eksKubernetes.queueFaults({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });

    const endpoints = await discovery().discoverEndpoints(target('eks-use1'));

    expect(endpoints).toEqual([{ address: '10.0.1.5', port: 8080, zone: 'us-east-1a' }]);
    expect(eksKubernetes.requests).toHaveLength(3);
  });

  it('retries a reset connection', async () => {
    serveCheckout(gkeKubernetes, [{ address: '10.8.0.12', zone: 'us-central1-a' }]);
    gkeKubernetes.queueFaults({ kind: 'reset' });

    expect(await discovery().discoverEndpoints(target('gke-usc1'))).toHaveLength(1);
    expect(gkeKubernetes.requests).toHaveLength(2);
  });

  it('gives up after a bounded number of attempts on 500s: a retryable error naming the cluster', async () => {
    serveCheckout(eksKubernetes, [{ address: '10.0.1.5', zone: 'us-east-1a' }]);
    eksKubernetes.failAlways({ kind: 'status', status: 500 });

    const error = await rejectionOf(discovery().discoverEndpoints(target('eks-use1')));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).retryable).toBe(true);
    expect((error as DependencyUnavailableError).dependency).toBe('Kubernetes API of cluster eks-use1');
    expect((error as Error).message).toContain('list EndpointSlices of checkout/checkout-v42');
    expect(eksKubernetes.requests).toHaveLength(MAX_ATTEMPTS);
  });

  it('gives up after a bounded number of timeouts when the API never answers', async () => {
    serveCheckout(gkeKubernetes, [{ address: '10.8.0.12', zone: 'us-central1-a' }]);
    gkeKubernetes.failAlways({ kind: 'hang' });

    const error = await rejectionOf(discovery().discoverEndpoints(target('gke-usc1')));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toBe('Kubernetes API of cluster gke-usc1');
    expect((error as Error).message).toContain('TimeoutError');
    expect(gkeKubernetes.requests).toHaveLength(MAX_ATTEMPTS);
  });

  it('reports a throttled API (429) as throttled', async () => {
    eksKubernetes.failAlways({ kind: 'status', status: 429 });

    const error = await rejectionOf(discovery().discoverEndpoints(target('eks-use1')));

    expect((error as DependencyUnavailableError).throttled).toBe(true);
    expect(eksKubernetes.requests).toHaveLength(MAX_ATTEMPTS);
  });

  it('turns 403 into a ClusterAuthError naming the cluster, without retrying', async () => {
    eksKubernetes.failAlways({ kind: 'status', status: 403 });

    const error = await rejectionOf(discovery().discoverEndpoints(target('eks-use1')));

    expect(error).toBeInstanceOf(ClusterAuthError);
    expect(error).toMatchObject({ name: 'ClusterAuthError', cluster: 'eks-use1', retryable: false });
    expect((error as Error).message).toContain('HTTP 403: endpointslices.discovery.k8s.io is forbidden');
    expect(eksKubernetes.requests).toHaveLength(1);
  });

  it('does not trust an API whose certificate the reported CA did not sign, and asks the cloud again next time', async () => {
    const provider = discovery();

    const error = await rejectionOf(provider.discoverEndpoints(target('eks-other-ca')));
    await rejectionOf(provider.discoverEndpoints(target('eks-other-ca')));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toContain("does not verify against the cluster's CA");
    expect(eksKubernetes.requests).toHaveLength(0);
    expect(eksApi.requests).toHaveLength(2);
  });
});

describe('no credentials configured, outside the clouds', () => {
  /** The sources crossfade uses off its clouds' functions, for an environment that names none. */
  function withoutCredentials() {
    const env = { HOME: '/nonexistent-home', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_CONFIG_FILE: '/nonexistent/config', CLOUDSDK_CONFIG: '/nonexistent/gcloud' };
    const credentials = awsCredentialsFor(env, 'elsewhere')!;
    const auth = googleAuthFor(env, 'elsewhere', [])!;
    provider = createCloudClusterProvider({ clusters, clock: { now: () => new Date(nowMs) }, eks: { endpoint: eksApi.endpoint, credentials }, gke: { apiEndpoint: gkeApi.endpoint, auth } });
    return provider;
  }

  it.each([
    ['eks-use1', 'no AWS credentials for cluster eks-use1; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or give the endpoints explicitly'],
    ['gke-usc1', 'no Google credentials for cluster gke-usc1; set GOOGLE_APPLICATION_CREDENTIALS (or run gcloud auth application-default login), or give the endpoints explicitly'],
  ])('%s: MissingCredentialsError saying what to set, and no cloud is asked', async (cluster, message) => {
    const error = await rejectionOf(withoutCredentials().discoverEndpoints(target(cluster)));
    expect(error).toBeInstanceOf(MissingCredentialsError);
    expect(error).toMatchObject({ cluster, retryable: false, message });
    expect([eksApi.requests, gkeApi.requests, eksKubernetes.requests, gkeKubernetes.requests].map((r) => r.length)).toEqual([0, 0, 0, 0]);
  });
});

describe('faults at the cloud APIs', () => {
  it('turns 403 at EKS DescribeCluster into a ClusterAuthError naming the cluster', async () => {
    eksApi.denyAccessTo('prod-use1');

    const error = await rejectionOf(discovery().discoverEndpoints(target('eks-use1')));

    expect(error).toBeInstanceOf(ClusterAuthError);
    expect(error).toMatchObject({ cluster: 'eks-use1', retryable: false });
    expect((error as Error).message).toContain('DescribeCluster prod-use1 in us-east-1');
    expect((error as Error).message).toContain('AccessDeniedException');
    expect(eksKubernetes.requests).toHaveLength(0);
  });

  it('turns 403 at GKE getCluster into a ClusterAuthError naming the cluster', async () => {
    gkeApi.denyAccessTo('prod-usc1');

    const error = await rejectionOf(discovery().discoverEndpoints(target('gke-usc1')));

    expect(error).toBeInstanceOf(ClusterAuthError);
    expect(error).toMatchObject({ cluster: 'gke-usc1', retryable: false });
    expect((error as Error).message).toContain('container.clusters.get');
  });

  it('names an EKS cluster that does not exist (404)', async () => {
    const error = await rejectionOf(discovery().discoverEndpoints(target('eks-gone')));

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe('cluster eks-gone: EKS has no cluster "deleted-cluster" in us-east-1 (crossfade.yaml clusters[].eksClusterName)');
  });

  it('names a cluster that is not configured, or configured in the other cloud', async () => {
    const provider = discovery();

    const unknown = await rejectionOf(provider.discoverEndpoints(target('eks-nowhere')));
    const otherCloud = await rejectionOf(provider.discoverEndpoints({ ...target('gke-usc1'), cloud: 'aws' }));

    expect(unknown).toBeInstanceOf(NotFoundError);
    expect((unknown as Error).message).toContain('cluster eks-nowhere is not configured');
    expect((otherCloud as Error).message).toBe('cluster gke-usc1 is configured in gcp, not aws');
    expect(eksApi.requests).toHaveLength(0);
  });
});

describe('caching per cold start', () => {
  it('describes a cluster once and reuses its EKS token for 10 minutes, then signs a new one', async () => {
    serveCheckout(eksKubernetes, [{ address: '10.0.1.5', zone: 'us-east-1a' }]);
    const provider = discovery();
    const tokens = () => eksKubernetes.requests.map((r) => r.headers.authorization);

    await provider.discoverEndpoints(target('eks-use1'));
    nowMs = T0 + 9 * 60_000;
    await provider.discoverEndpoints(target('eks-use1'));
    nowMs = T0 + 11 * 60_000;
    await provider.discoverEndpoints(target('eks-use1'));

    expect(eksApi.requests).toHaveLength(1);
    expect(tokens()[1]).toBe(tokens()[0]);
    expect(tokens()[2]).not.toBe(tokens()[0]);
  });

  it('asks the cloud again after the cluster API refused the cached access', async () => {
    serveCheckout(eksKubernetes, [{ address: '10.0.1.5', zone: 'us-east-1a' }]);
    const provider = discovery();
    eksKubernetes.queueFaults({ kind: 'status', status: 401 });

    await rejectionOf(provider.discoverEndpoints(target('eks-use1')));
    const endpoints = await provider.discoverEndpoints(target('eks-use1'));

    expect(endpoints).toHaveLength(1);
    expect(eksApi.requests).toHaveLength(2);
  });
});
