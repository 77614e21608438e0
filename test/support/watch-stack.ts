/**
 * A crossfade for the watch's tests and its recorded examples: a real `npm start` (embedded store,
 * the canary run in-process with waits shortened), one real HAProxy as the AWS proxy group (it
 * converges), an Envoy group on GCP that lists no proxies (unverified), and a fake Prometheus whose
 * series pass the judge, but for `failingVersion`'s error ratio. Service `checkout` has v1, v2 and
 * v3 registered in both clusters.
 */
import { randomUUID } from 'node:crypto';
import { haproxyBackendName } from '../../shared/adapters/haproxy/haproxy-router.js';
import { startFakePrometheus, type FakePrometheus } from './fake-clouds/prometheus.js';
import { startHaproxy, type HaproxyInstance } from './haproxy.js';
import { startStack, stopLocalProcess, type LocalProcess } from './local-process.js';
import { LOOPBACK_CIDRS } from './mesh-builders.js';

export const WATCH_SERVICE = 'checkout';
export const WATCH_TEMPLATE = 'golden';

export interface WatchStack {
  url: string;
  token: string;
  /** Calls the API with the admin token; answers status and parsed body. */
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Creates a deployment of `canary` (default v2) with `steps`; answers its id. */
  deploy(steps: unknown[], canary?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface WatchStackOptions {
  /** CROSSFADE_LOCAL_WAIT_MS: how long every pause and analysis interval lasts. */
  waitMs: number;
  /** A version whose error ratio is 30 times the others': its judgments fail. */
  failingVersion?: string;
}

/** Twelve points around `level`: equal levels pass the judge, a higher canary fails it. */
function series(level: number): { values: number[] } {
  return { values: Array.from({ length: 12 }, (_, i) => level + (i % 3) / 1000) };
}

export async function startWatchStack(options: WatchStackOptions): Promise<WatchStack> {
  const haproxy = await startHaproxy('edge-1', [{ name: haproxyBackendName(WATCH_SERVICE) }]);
  const failing = options.failingVersion === undefined ? null : `version="${options.failingVersion}"`;
  const prometheus = await startFakePrometheus({ range: (expression) => series(failing !== null && expression.includes(failing) && expression.includes('code=~') ? 0.3 : 0.01) });
  let server: LocalProcess | undefined;
  try {
    const token = `cf_watch_admin_${randomUUID()}`;
    const stack = await startStack({
      label: 'watch',
      config: config(haproxy, prometheus),
      adminToken: token,
      env: { CROSSFADE_LOCAL_WAIT_MS: String(options.waitMs), CROSSFADE_LOCAL_RETRY_MS: '500' },
    });
    server = stack.process;
    const url = stack.url;
    const call: WatchStack['call'] = async (method, path, body) => {
      const response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    };
    for (const [index, version] of ['v1', 'v2', 'v3'].entries()) {
      const targets = [
        { cloud: 'aws', cluster: 'eks-use1', namespace: WATCH_SERVICE, kubernetesService: `${WATCH_SERVICE}-${version}`, port: 8080, endpoints: [{ address: '127.0.0.1', port: 20_001 + index }] },
        { cloud: 'gcp', cluster: 'gke-usc1', namespace: WATCH_SERVICE, kubernetesService: `${WATCH_SERVICE}-${version}`, port: 8080, endpoints: [{ address: '127.0.0.2', port: 20_001 + index }] },
      ];
      const registered = await call('PUT', `/v1/services/${WATCH_SERVICE}/versions/${version}`, { targets });
      if (registered.status !== 201) throw new Error(`registering ${version}: ${registered.status} ${JSON.stringify(registered.body)}`);
    }
    const started = stack.process;
    return {
      url,
      token,
      call,
      async deploy(steps, canary = 'v2') {
        const created = await call<{ id: string }>('POST', '/v1/deployments', { service: WATCH_SERVICE, canary: { version: canary }, steps, reason: 'watch test' });
        if (created.status !== 202) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
        return created.body.id;
      },
      async stop() {
        await stopLocalProcess(started);
        await prometheus.stop();
        await haproxy.stop();
      },
    };
  } catch (error) {
    if (server) await stopLocalProcess(server);
    await prometheus.stop();
    await haproxy.stop();
    throw error;
  }
}

function config(haproxy: HaproxyInstance, prometheus: FakePrometheus): Record<string, unknown> {
  return {
    clusters: [
      { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' },
      { name: 'gke-usc1', cloud: 'gcp', project: 'watch-project', location: 'us-central1' },
    ],
    proxyGroups: [
      { name: 'edge-use1', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [haproxy.proxy] },
      { name: 'envoy-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [] },
    ],
    mesh: { allowedEndpointCidrs: LOOPBACK_CIDRS },
    analysis: {
      providers: [{ name: 'prom', kind: 'prometheus', url: prometheus.url }],
      templates: [
        {
          name: WATCH_TEMPLATE,
          stepSeconds: 1,
          thresholds: { pass: 70, marginal: 50 },
          groupWeights: { errors: 60, latency: 40 },
          metrics: [
            { name: 'error-ratio', group: 'errors', provider: 'prom', query: 'sum(rate(http_requests_total{service="{{service}}",version="{{version}}",code=~"5.."}[30s]))', direction: 'increase', critical: true, noData: 'fail', spreadCheck: false },
            { name: 'p99-latency', group: 'latency', provider: 'prom', query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",version="{{version}}"}[30s])))', direction: 'increase', noData: 'fail', spreadCheck: false },
          ],
        },
      ],
    },
  };
}
