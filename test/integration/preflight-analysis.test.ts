/**
 * preflightAnalysis (shared/usecases/preflight-analysis.ts) with the real adapters: a real
 * Prometheus behind a relay that counts and fails requests, and the fakes of CloudWatch
 * GetMetricData and Cloud Monitoring timeSeries.list. Plans are compiled by compileSteps, as
 * createDeployment compiles them. The bound on checks in flight is tested on a fake of the port.
 */
import { OAuth2Client } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsProvider, type ClosableMetricsProvider } from '../../shared/adapters/metrics/index.js';
import type { AnalysisMetric, AnalysisTemplate } from '../../shared/domain/analysis.js';
import type { Step } from '../../shared/domain/deployment.js';
import { DependencyUnavailableError, InternalError, ValidationError } from '../../shared/domain/errors.js';
import { compileSteps, type WireStep } from '../../shared/domain/plan.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { MetricQuery, MetricsProvider, MetricsQueryChecker } from '../../shared/ports/metrics-provider.js';
import { preflightAnalysis, type PreflightOptions } from '../../shared/usecases/preflight-analysis.js';
import { rejectionOf } from '../support/errors.js';
import { startFakeCloudMonitoring, type FakeCloudMonitoring } from '../support/fake-clouds/cloud-monitoring.js';
import { startFakeCloudWatch, type FakeCloudWatch } from '../support/fake-clouds/cloudwatch.js';
import { startFaultyRelay, startPrometheus, type FaultyRelay, type PrometheusInstance } from '../support/prometheus.js';

const SERVICE = 'checkout';
const VERSIONS = { baseline: 'v41', canary: 'v42' };
const silent: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => silent };

const metric = (fields: Partial<AnalysisMetric> & Pick<AnalysisMetric, 'name' | 'provider' | 'query'>): AnalysisMetric => ({
  group: 'default', direction: 'increase', critical: false, noData: 'ignore', spreadCheck: false, ...fields,
});
const requestRate = metric({ name: 'request-rate', provider: 'prom', query: 'sum(rate(http_requests_total{service="{{service}}",version="{{version}}"}[30s]))' });
const latency = metric({ name: 'latency', provider: 'cw', query: `SELECT AVG(Latency) FROM SCHEMA("Crossfade/Checkout", Version) WHERE Version = '{{version}}'` });
const cpu = metric({ name: 'cpu', provider: 'gcm', query: 'metric.type = "kubernetes.io/container/cpu/core_usage_time" AND metadata.user_labels.version = "{{version}}"', aligner: 'ALIGN_RATE', reducer: 'REDUCE_SUM' });
const template = (name: string, metrics: AnalysisMetric[]): AnalysisTemplate => ({ name, stepSeconds: 10, thresholds: { pass: 95, marginal: 75 }, groupWeights: {}, metrics });
const golden = template('golden', [requestRate]);
const catalog = { templates: [golden, template('broken', [metric({ name: 'up-rate', provider: 'prom', query: 'rate(up)' })])], providers: ['prom', 'cw', 'gcm'] };

const analysis = (fields: Record<string, unknown>): WireStep => ({ analysis: { interval: '1m', count: 1, ...fields } }) as WireStep;
const plan = (...steps: WireStep[]): Step[] => compileSteps(steps, [{ name: 'eks-use1', cloud: 'aws' }], catalog);

let prometheus: PrometheusInstance;
let relay: FaultyRelay;
let cloudWatch: FakeCloudWatch;
let cloudMonitoring: FakeCloudMonitoring;
let providers: Map<string, ClosableMetricsProvider>;

beforeAll(async () => {
  [prometheus, cloudWatch, cloudMonitoring] = await Promise.all([startPrometheus(), startFakeCloudWatch(), startFakeCloudMonitoring()]);
  relay = await startFaultyRelay(prometheus.url);
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: cloudMonitoring.accessToken, expiry_date: Date.now() + 3_600_000 });
  providers = new Map([
    // A generous request timeout: on a loaded machine a real Prometheus can take over a second, and a
    // timed-out query retried would count twice in the "every distinct query once" check.
    ['prom', createMetricsProvider({ kind: 'prometheus', name: 'prom', url: relay.url, requestTimeoutMs: 15_000, maxAttempts: 2, backoffBaseMs: 1 })],
    ['cw', createMetricsProvider({ kind: 'cloudwatch', name: 'cw', region: 'us-east-1', endpoint: cloudWatch.endpoint, maxAttempts: 2, credentials: async () => ({ accessKeyId: cloudWatch.accessKeyId, secretAccessKey: 'fakesecretfakesecret' }) })],
    ['gcm', createMetricsProvider({ kind: 'cloud-monitoring', name: 'gcm', project: 'crossfade-test', apiEndpoint: cloudMonitoring.endpoint, auth, maxAttempts: 2, backoffBaseMs: 1 })],
  ]);
});

afterEach(() => {
  relay.reset();
  cloudWatch.reset();
  cloudMonitoring.reset();
});

afterAll(async () => {
  await Promise.all([...(providers?.values() ?? [])].map((p) => p.close()));
  await relay?.stop();
  await Promise.all([prometheus?.stop(), cloudWatch?.stop(), cloudMonitoring?.stop()]);
});

const preflight = (steps: Step[], versions: { baseline: string | null; canary: string } = VERSIONS, options?: PreflightOptions) =>
  preflightAnalysis({ metrics: providers, logger: silent }, SERVICE, steps, versions, options);

/** The PromQL each instant query asked, in order. */
const promChecked = () => relay.requests.filter((r) => r.path === '/api/v1/query').map((r) => r.query.get('query'));

describe('preflightAnalysis on the real adapters', () => {
  it('checks every distinct query once, as the judge renders it for the baseline and the canary, on every provider', async () => {
    const steps = plan({ setWeight: 10 }, analysis({ template: 'golden' }), { setWeight: 50 }, analysis({ template: 'golden' }), analysis({ metrics: [latency, cpu] }));

    await preflight(steps);

    // The template of two steps is asked once per version.
    expect(promChecked().sort()).toEqual(['v41', 'v42'].map((v) => `sum(rate(http_requests_total{service="checkout",version="${v}"}[30s]))`));
    expect(cloudWatch.calls.map((c) => c.expression).sort()).toEqual(['v41', 'v42'].map((v) => `SELECT AVG(Latency) FROM SCHEMA("Crossfade/Checkout", Version) WHERE Version = '${v}'`));
    expect(cloudMonitoring.requests.map((r) => r.query.get('filter')).sort()).toEqual(['v41', 'v42'].map((v) => `metric.type = "kubernetes.io/container/cpu/core_usage_time" AND metadata.user_labels.version = "${v}"`));
  });

  it('a plan without analysis asks nothing', async () => {
    await preflight(plan({ setWeight: 10 }, { pause: {} }, { setWeight: 100 }));

    expect(relay.requests).toHaveLength(0);
  });

  it('invalid PromQL inline: 400 naming steps[2].analysis.metrics[0].query and the metric, rule provider-accepts-query', async () => {
    const steps = plan({ setWeight: 10 }, { pause: {} }, analysis({ metrics: [{ ...requestRate, query: 'sum(rate(http_requests_total{version="{{version}}"}[30s])' }] }));

    const error = await rejectionOf(preflight(steps));

    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'steps[2].analysis.metrics[0].query', rule: 'provider-accepts-query' });
    expect((error as Error).message).toContain('metric request-rate');
    expect((error as Error).message).toMatch(/parse error/);
  });

  it("only the canary's own query is malformed: the field is its canaryQuery", async () => {
    const steps = plan(analysis({ metrics: [{ ...requestRate, canaryQuery: 'rate(http_requests_total{version="{{version}}"})' }] }));

    expect(await rejectionOf(preflight(steps))).toMatchObject({ name: 'ValidationError', field: 'steps[0].analysis.metrics[0].canaryQuery' });
  });

  it('a configured template the provider refuses names the step’s template field, the template and the metric', async () => {
    const steps = plan({ setWeight: 5 }, analysis({ template: 'broken' }));

    const error = await rejectionOf(preflight(steps));

    expect(error).toMatchObject({ name: 'ValidationError', field: 'steps[1].analysis.template', rule: 'provider-accepts-query' });
    expect((error as Error).message).toContain('template broken, metric up-rate');
  });

  it('CloudWatch refusing the expression, and Cloud Monitoring refusing the filter or the aligner, name the metric’s field', async () => {
    cloudWatch.setMalformed('SELECT AVG(', 'Error in expression m: Syntax error at line 1, column 11: unexpected end of query');
    cloudMonitoring.setMalformed('metric.type = ', 'Field filter had an invalid value of "metric.type = ": Expected a value after "=".');

    const refusal = (broken: AnalysisMetric) => rejectionOf(preflight(plan(analysis({ metrics: [requestRate, broken] }))));

    expect(await refusal({ ...latency, query: 'SELECT AVG(' })).toMatchObject({ field: 'steps[0].analysis.metrics[1].query', rule: 'provider-accepts-query' });
    expect(await refusal({ ...cpu, query: 'metric.type = ' })).toMatchObject({ field: 'steps[0].analysis.metrics[1].query', rule: 'provider-accepts-query' });
    expect(await refusal({ ...cpu, aligner: 'ALIGN_AVERAGE' })).toMatchObject({ field: 'steps[0].analysis.metrics[1].aligner', rule: 'provider-accepts-query' });
  });

  it('without a baseline yet, the baseline scope is checked with the canary’s version: one check per query text', async () => {
    await preflight(plan(analysis({ template: 'golden' })), { baseline: null, canary: 'v42' });

    expect(promChecked()).toEqual(['sum(rate(http_requests_total{service="checkout",version="v42"}[30s]))']);
  });

  it('a provider failing after its retries is a DependencyUnavailableError naming it and what was being checked', async () => {
    relay.failNext(10, 'server');

    const error = await rejectionOf(preflight(plan(analysis({ template: 'golden' }))));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toContain('metrics provider prom');
    expect((error as Error).message).toContain('before any traffic moves');
  });

  it('a provider that does not answer before the deadline is a DependencyUnavailableError naming it', async () => {
    relay.failNext(10, 'hang');

    const error = await rejectionOf(preflight(plan(analysis({ metrics: [requestRate, latency] })), VERSIONS, { timeoutMs: 300 }));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toBe('metrics provider prom');
    expect((error as Error).message).toContain('no answer within 300 ms');
  });
});

describe('preflightAnalysis on fakes of the port', () => {
  /** A provider answering ok after a tick, counting the checks in flight. */
  function countingProvider(name: string): MetricsProvider & MetricsQueryChecker & { asked: string[]; maxInFlight: number } {
    let inFlight = 0;
    const provider = {
      name,
      asked: [] as string[],
      maxInFlight: 0,
      queryRange: () => Promise.resolve([]),
      async checkQuery(query: MetricQuery) {
        provider.asked.push(query.expression);
        provider.maxInFlight = Math.max(provider.maxInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return { kind: 'ok' } as const;
      },
    };
    return provider;
  }
  const manyMetrics = Array.from({ length: 5 }, (_, i) => metric({ name: `m${i}`, provider: 'prom', query: `m${i}{version="{{version}}"}` }));

  it('keeps at most `concurrency` checks in flight, and asks every query', async () => {
    const prom = countingProvider('prom');

    await preflightAnalysis({ metrics: new Map([['prom', prom]]), logger: silent }, SERVICE, plan(analysis({ metrics: manyMetrics })), VERSIONS, { concurrency: 2 });

    expect(prom.asked).toHaveLength(10);
    expect(prom.maxInFlight).toBe(2);
  });

  it('does not ask a provider without the capability, and accepts its queries', async () => {
    const asked: string[] = [];
    const plain: MetricsProvider = { name: 'prom', queryRange: (query) => (asked.push(query.expression), Promise.resolve([])) };

    await preflightAnalysis({ metrics: new Map([['prom', plain]]), logger: silent }, SERVICE, plan(analysis({ metrics: manyMetrics })), VERSIONS);

    expect(asked).toEqual([]);
  });

  it('a provider the plan names but nobody wired is an InternalError, not a silent pass', async () => {
    const error = await rejectionOf(preflightAnalysis({ metrics: new Map(), logger: silent }, SERVICE, plan(analysis({ template: 'golden' })), VERSIONS));

    expect(error).toBeInstanceOf(InternalError);
  });
});
