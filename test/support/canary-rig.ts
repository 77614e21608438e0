/**
 * Everything a canary needs, real and on 127.0.0.1, for end-to-end tests of the state machine:
 * per service, two metered backends per version (test/support/metered-backends.ts) behind one real
 * HAProxy (one frontend per service, one `cf_<service>` backend per service, one proxy group), one
 * or more real Prometheus scraping the backends (every series labelled with its `service`), and
 * the local stack on DynamoDB Local running the canary in-process on the real ASL definition with
 * shortened waits. Plus the HTTP calls the tests make, polling, audit pages, and exact counting of
 * HAProxy's split.
 *
 * Each service has its own HAProxy backend, frontend and metrics, so scenarios never share state;
 * they share the one proxy group (every deployment touches every group), which is why there is one
 * HAProxy instance serving every service.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack.js';
import { haproxyBackendName } from '../../shared/adapters/haproxy/haproxy-router.js';
import type { JudgeResult } from '../../shared/domain/judge/index.js';
import { hashToken } from '../../shared/http/auth.js';
import { adminCommand, sharesOf, startHaproxy, wheelTurn, type HaproxyInstance } from './haproxy.js';
import { countAnswers } from './http-backends.js';
import { startMeteredBackends, type MeteredBackend, type MeteredBackendOptions, type MeteredBackends } from './metered-backends.js';
import { startPrometheus, type PrometheusInstance } from './prometheus.js';
import { LOOPBACK_CIDRS } from './mesh-builders.js';
import { freePort } from './ports.js';

export const CLUSTER = { cloud: 'aws', name: 'eks-use1', region: 'us-east-1' } as const;
export const PROXY_GROUP = 'edge-use1';

export interface RigService {
  name: string;
  /** Two backends are started for each entry. */
  versions: readonly MeteredBackendOptions[];
  /** Which Prometheus instances scrape it (default: the first). */
  prometheus?: readonly string[];
}

export interface RigOptions {
  services: readonly RigService[];
  /** Prometheus instances by provider name; the first is the default. */
  prometheus: readonly string[];
  /** Analysis templates, given the provider names. */
  templates: readonly Record<string, unknown>[];
  waitMs: number;
  retryMs: number;
  /** Extra tokens for crossfade.json: `{id, token, scopes}`. */
  tokens?: readonly { id: string; token: string; scopes: string[] }[];
  /** Envoy proxy groups (no node listed: their published snapshots are all there is to check) besides the HAProxy one. */
  envoyGroups?: readonly string[];
}

export interface Answer<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

export interface CanaryRig {
  stack: LocalStack;
  haproxy: HaproxyInstance;
  prometheus: ReadonlyMap<string, PrometheusInstance>;
  backends: ReadonlyMap<string, MeteredBackends>;
  /** The environment the stack was started with (config, table), for tests that build their own deps. */
  env: Record<string, string | undefined>;
  frontendPort(service: string): number;
  /** `path` relative to the stack, or an absolute URL (a Location header). Admin token unless `token`. */
  call<T = unknown>(method: string, path: string, body?: unknown, options?: { token?: string; headers?: Record<string, string> }): Promise<Answer<T>>;
  /** Registers `version` of `service` with its two backends as explicit endpoints. */
  register(service: string, version: string): Promise<void>;
  stop(): Promise<void>;
}

const credentials = { AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fakesecretfakesecret', AWS_REGION: 'us-east-1' };

export async function startCanaryRig(options: RigOptions): Promise<CanaryRig> {
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-canary-rig-'));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const backends = new Map<string, MeteredBackends>();
    for (const service of options.services) {
      const started = await startMeteredBackends(service.versions.flatMap((v) => [v, v]));
      stops.push(() => started.stop());
      backends.set(service.name, started);
    }

    const prometheus = new Map<string, PrometheusInstance>();
    for (const name of options.prometheus) {
      const targets = options.services
        .filter((service) => (service.prometheus ?? [options.prometheus[0]]).includes(name))
        .flatMap((service) => backends.get(service.name)!.backends.map((b) => ({ job: 'pods', address: b.address, labels: { service: service.name } })));
      const instance = await startPrometheus({ targets });
      stops.push(() => instance.stop());
      prometheus.set(name, instance);
    }

    // One frontend per service, in a file loaded after the generated config.
    const frontends = new Map<string, number>();
    const lines: string[] = [];
    for (const service of options.services) {
      const port = await freePort();
      frontends.set(service.name, port);
      lines.push(`frontend fe_${service.name}`, `    bind 127.0.0.1:${port}`, `    default_backend ${haproxyBackendName(service.name)}`);
    }
    const frontendsFile = join(dir, 'frontends.cfg');
    writeFileSync(frontendsFile, `${lines.join('\n')}\n`);
    const haproxy = await startHaproxy(
      'edge-1',
      options.services.map((service) => ({ name: haproxyBackendName(service.name) })),
      { extraConfigFiles: [frontendsFile] },
    );
    stops.push(() => haproxy.stop());

    const config = {
      clusters: [{ name: CLUSTER.name, cloud: CLUSTER.cloud, region: CLUSTER.region }],
      proxyGroups: [
        { name: PROXY_GROUP, kind: 'haproxy', cloud: CLUSTER.cloud, region: CLUSTER.region, proxies: [haproxy.proxy] },
        ...(options.envoyGroups ?? []).map((name) => ({ name, kind: 'envoy', cloud: CLUSTER.cloud, region: CLUSTER.region, proxies: [] })),
      ],
      // The metered backends listen on 127.0.0.1, which registration refuses unless allowed.
      mesh: { allowedEndpointCidrs: LOOPBACK_CIDRS },
      tokens: (options.tokens ?? []).map((t) => ({ id: t.id, sha256: hashToken(t.token), scopes: t.scopes })),
      analysis: {
        providers: options.prometheus.map((name) => ({ name, kind: 'prometheus', url: prometheus.get(name)!.url })),
        templates: options.templates,
      },
      canary: { lockLeaseSeconds: 120 },
    };
    const configPath = join(dir, 'crossfade.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...credentials,
      CROSSFADE_CONFIG: configPath,
      CROSSFADE_TABLE: `canary-e2e-${randomUUID()}`,
      CROSSFADE_DYNAMODB_ENDPOINT: inject('dynamoDbLocalEndpoint'),
      CROSSFADE_LOG_LEVEL: 'silent',
      CROSSFADE_ADMIN_TOKEN: `cf_rig_admin_${randomUUID()}`,
      CROSSFADE_STATE_MACHINE_ARN: undefined,
    };
    const stack = await startLocalStack({ env, dataDir: join(dir, 'data'), persist: false, port: 0, waitMs: options.waitMs, retryMs: options.retryMs });
    stops.push(() => stack.stop());

    const call: CanaryRig['call'] = async (method, path, body, callOptions = {}) => {
      const url = /^https?:\/\//.test(path) ? path : stack.url + path;
      const response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${callOptions.token ?? stack.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...callOptions.headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => (headers[key] = value));
      const text = await response.text();
      return { status: response.status, headers, body: text === '' ? undefined : JSON.parse(text) };
    };

    return {
      stack,
      haproxy,
      prometheus,
      backends,
      env,
      frontendPort: (service) => frontends.get(service)!,
      call,
      async register(service, version) {
        const endpoints = backendsOf(backends.get(service)!, version).map((b) => ({ address: '127.0.0.1', port: b.port }));
        const answer = await call('PUT', `/v1/services/${service}/versions/${version}`, {
          targets: [{ cloud: CLUSTER.cloud, cluster: CLUSTER.name, namespace: service, kubernetesService: `${service}-${version}`, port: 8080, endpoints }],
        });
        if (answer.status !== 200 && answer.status !== 201) throw new Error(`registering ${service} ${version}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export function backendsOf(backends: MeteredBackends, version: string): MeteredBackend[] {
  return backends.backends.filter((b) => b.version === version);
}

/** The error ratio and p99 latency of one version, from the backends' own metrics (`{{service}}`, `{{version}}`). */
export function goldenTemplate(name: string, provider: string, rangeSeconds: number): Record<string, unknown> {
  const selector = 'service="{{service}}",version="{{version}}"';
  return {
    name,
    stepSeconds: 1,
    // Errors decide (critical: a canary failing more fails the judgment on its own). Latency weighs 30, so
    // on a loaded test machine, where one slow moment moves a point between buckets, it alone cannot
    // fail a judgment (70 still passes); together with anything else it does.
    thresholds: { pass: 70, marginal: 50 },
    groupWeights: { errors: 70, latency: 30 },
    metrics: [
      {
        name: 'error-ratio',
        group: 'errors',
        provider,
        query: `sum(rate(http_requests_total{${selector},code=~"5.."}[${rangeSeconds}s])) / sum(rate(http_requests_total{${selector}}[${rangeSeconds}s]))`,
        direction: 'increase',
        critical: true,
        noData: 'wait',
        spreadCheck: false,
      },
      {
        name: 'latency-p99',
        group: 'latency',
        provider,
        query: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${selector}}[${rangeSeconds}s])))`,
        direction: 'increase',
        critical: false,
        noData: 'ignore',
        spreadCheck: false,
      },
    ],
  };
}

export interface StatusDoc {
  id: string;
  service: string;
  status: string;
  progress: string;
  phase: string;
  step: { index: number; count: number };
  baseline: string | null;
  canary: string;
  weights: Record<string, Record<string, number>>;
  statusUrl: string;
  cancelUrl: string;
  result: { outcome: string; reason: string; weights: Record<string, Record<string, number>>; judgments: { stepIndex: number; run: number; score: number; classification: string; reason: string | null }[] } | null;
  createdAt: string;
  updatedAt: string;
}

/** A judgment's input as the audit records it (usecases/canary/judge.ts): NaN and infinities as strings. */
export interface RecordedInput {
  metric: string;
  provider: string;
  queries: { baseline: string; canary: string };
  unavailable?: string;
  noDataPolicy?: string;
  baseline: (number | string)[];
  canary: (number | string)[];
}

export interface AuditItem {
  eventId: string;
  at: string;
  actor: string;
  action: string;
  reason: string | null;
  details: {
    phase?: string;
    stepIndex?: number;
    error?: { Error?: string; Cause?: string };
    judgment?: JudgeResult;
    verdict?: { status: string; score?: number; reason?: string };
    inputs?: RecordedInput[];
    deferred?: string;
    [key: string]: unknown;
  };
}

/** Polls the status document until `done` holds; throws with the last document after `timeoutMs`. */
export async function pollUntil(rig: CanaryRig, id: string, done: (doc: StatusDoc) => boolean, timeoutMs: number, intervalMs = 100): Promise<StatusDoc> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusDoc | undefined;
  for (;;) {
    const answer = await rig.call<StatusDoc>('GET', `/v1/deployments/${id}`);
    if (answer.status !== 200) throw new Error(`GET deployment ${id}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    last = answer.body;
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`deployment ${id} did not get there within ${timeoutMs} ms; last: ${JSON.stringify({ ...last, result: last.result })}`);
    await sleep(intervalMs);
  }
}

export const FINISHED = ['SUCCEEDED', 'TERMINAL', 'CANCELED'];

/** The run's end (the lock released), bounded. */
export async function settled(rig: CanaryRig, id: string, timeoutMs: number): Promise<string> {
  const runner = rig.stack.canaryRunner;
  if (!runner) throw new Error('the stack runs no local canary runner');
  return within(runner.settled(id), timeoutMs, `the run of ${id}`);
}

export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not end within ${timeoutMs} ms`)), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every audit event of a deployment, oldest first, over all pages. */
export async function auditOf(rig: CanaryRig, id: string): Promise<AuditItem[]> {
  const items: AuditItem[] = [];
  let cursor: string | null = null;
  do {
    const answer: Answer<{ items: AuditItem[]; nextCursor: string | null }> = await rig.call('GET', `/v1/deployments/${id}/events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (answer.status !== 200) throw new Error(`events of ${id}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    items.push(...answer.body.items);
    cursor = answer.body.nextCursor;
  } while (cursor);
  return items;
}

/** The canary's share of HAProxy's weights for `service`, read through the admin socket: `{ v1: 95, v2: 5 }` in percent of the total. */
export function haproxyShares(rig: CanaryRig, service: string): Promise<{ shares: Record<string, number>; weights: Record<string, number> }> {
  return sharesOf(rig.haproxy.adminPort, haproxyBackendName(service));
}

/**
 * Exactly one turn of HAProxy's round-robin wheel for `service`, counted by the answering version,
 * after `warmupTurns` turns (a weight change lands mid-turn; haproxy.test.ts explains). Nothing else
 * may send traffic through the frontend meanwhile: stop the background traffic first.
 */
export async function countOneTurn(rig: CanaryRig, service: string, warmupTurns = 2): Promise<{ turn: number; counts: Record<string, number> }> {
  const turn = await wheelTurn(rig.haproxy.adminPort, haproxyBackendName(service));
  if (warmupTurns > 0) await countAnswers(rig.frontendPort(service), warmupTurns * turn, 16);
  const counts = await countAnswers(rig.frontendPort(service), turn, 16);
  return { turn, counts };
}

/** Takes HAProxy down hard: its worker is killed (the master follows), so the admin socket refuses. `restart()` brings it back from its config. */
export async function killHaproxy(haproxy: HaproxyInstance): Promise<void> {
  const info = await adminCommand(haproxy.adminPort, 'show info');
  const pid = Number(/^Pid: (\d+)$/m.exec(info)?.[1]);
  if (!pid) throw new Error(`no worker pid in: ${info.slice(0, 200)}`);
  process.kill(pid, 'SIGKILL');
  for (let attempt = 0; attempt < 100; attempt++) {
    const refused = await adminCommand(haproxy.adminPort, 'show info').then(() => false, () => true);
    if (refused) return;
    await sleep(20);
  }
  throw new Error('HAProxy still answers after its worker was killed');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
