/**
 * The Prometheus adapter against a real Prometheus scraping real instrumented backends every
 * second: the queries a canary analysis asks (request rate, error ratio, a latency quantile) come
 * back as the traffic sent makes them. Two versions: v1 healthy and fast; v2 failing every 5th
 * request and 40 ms slower.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsProvider, type ClosableMetricsProvider } from '../../shared/adapters/metrics/index.js';
import { DependencyUnavailableError } from '../../shared/domain/errors.js';
import type { MetricWindow } from '../../shared/ports/metrics-provider.js';
import { rejectionOf } from '../support/errors.js';
import { startMeteredBackends, startTraffic, type MeteredBackends, type Traffic } from '../support/metered-backends.js';
import { startPrometheus, type PrometheusInstance } from '../support/prometheus.js';

const REQUESTS_PER_SECOND = 40;
const V2_LATENCY_MS = 40;

let backends: MeteredBackends;
let prometheus: PrometheusInstance;
let traffic: Traffic[] = [];
let provider: ClosableMetricsProvider;

beforeAll(async () => {
  backends = await startMeteredBackends([{ version: 'v1' }, { version: 'v2', errorPercent: 20, latencyMs: V2_LATENCY_MS }]);
  prometheus = await startPrometheus({ targets: backends.backends.map((b) => ({ job: 'checkout', address: b.address })) });
  traffic = backends.backends.map((b) => startTraffic(b.port, REQUESTS_PER_SECOND));
  provider = createMetricsProvider({ kind: 'prometheus', name: 'prom-local', url: prometheus.url, backoffBaseMs: 1 });
  // A rate over [5s] of a series younger than 5 s extrapolates only a little past its samples, so
  // it ramps up for its first five points; six more after those make the window below steady.
  await Promise.all(['v1', 'v2'].map((v) => prometheus.waitForSamples(`sum(rate(http_requests_total{version="${v}"}[5s]))`, 12)));
});

afterAll(async () => {
  await Promise.all(traffic.map((t) => t.stop()));
  await provider?.close();
  await prometheus?.stop();
  await backends?.stop();
});

/** The last six seconds, whole seconds, ending a second ago (the newest scrape may not be in yet). */
function recentWindow(): MetricWindow {
  const endMs = Math.floor(Date.now() / 1000) * 1000 - 1000;
  return { start: new Date(endMs - 5000), end: new Date(endMs), stepSeconds: 1 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('Prometheus scraping metered backends', () => {
  it('gives the request rate of one version, per second, one point per step', async () => {
    const values = await provider.queryRange({ expression: 'sum(rate(http_requests_total{version="v1"}[5s]))' }, recentWindow());

    expect(values).toHaveLength(6);
    for (const value of values) expect(value).toBeGreaterThan(0);
    // Timers and scrapes jitter; the rate is the traffic's, give or take.
    expect(median(values)).toBeGreaterThan(REQUESTS_PER_SECOND * 0.6);
    expect(median(values)).toBeLessThan(REQUESTS_PER_SECOND * 1.4);
  });

  it("gives each version's error ratio: 0 for v1, one in five for v2", async () => {
    const ratio = (version: string) =>
      `sum(rate(http_requests_total{version="${version}",code=~"5.."}[5s])) / sum(rate(http_requests_total{version="${version}"}[5s]))`;
    const window = recentWindow();

    const [v1, v2] = await Promise.all([provider.queryRange({ expression: ratio('v1') }, window), provider.queryRange({ expression: ratio('v2') }, window)]);

    expect(v1).toEqual([0, 0, 0, 0, 0, 0]);
    // Both counters are scraped together, so rate() extrapolates them alike and the ratio is the backend's.
    for (const value of v2) expect(value).toBeCloseTo(0.2, 1);
  });

  it('gives a latency quantile from the histogram: v2 in the bucket its added latency puts it in, v1 below', async () => {
    const p50 = (version: string) => `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{version="${version}"}[5s])))`;
    const window = recentWindow();

    const [v1, v2] = await Promise.all([provider.queryRange({ expression: p50('v1') }, window), provider.queryRange({ expression: p50('v2') }, window)]);

    expect(v2).toHaveLength(6);
    // 40 ms falls in the (0.025, 0.05] bucket; a loaded machine may push some answers into the next.
    for (const value of v2) expect(value).toBeGreaterThan(V2_LATENCY_MS / 1000 - 0.015);
    for (const value of v2) expect(value).toBeLessThanOrEqual(0.1);
    for (const value of v1) expect(value).toBeLessThan(0.025);
  });

  it('answers [] for a version nobody has deployed, and refuses a query that yields a series per version', async () => {
    expect(await provider.queryRange({ expression: 'sum(rate(http_requests_total{version="v9"}[5s]))' }, recentWindow())).toEqual([]);

    const error = await rejectionOf(provider.queryRange({ expression: 'sum by (version) (rate(http_requests_total[5s]))' }, recentWindow()));

    expect(error).toMatchObject({ name: 'ValidationError', rule: 'one-series' });
  });
});

describe('Prometheus checking a query before a deployment starts (checkQuery)', () => {
  it('accepts the queries a canary analysis asks, for a version with traffic and one without', async () => {
    const ratio = (version: string) => `sum(rate(http_requests_total{version="${version}",code=~"5.."}[30s])) / sum(rate(http_requests_total{version="${version}"}[30s]))`;

    expect(await provider.checkQuery({ expression: ratio('v2') })).toEqual({ kind: 'ok' });
    expect(await provider.checkQuery({ expression: ratio('v9') })).toEqual({ kind: 'ok' });
  });

  it('refuses what Prometheus 2.42 cannot parse or type, in its own words', async () => {
    const unclosed = await provider.checkQuery({ expression: 'sum(rate(http_requests_total[30s])' });
    const untyped = await provider.checkQuery({ expression: 'rate(http_requests_total)' });

    expect(unclosed).toMatchObject({ kind: 'refused', part: 'expression', reason: expect.stringMatching(/bad_data: .*parse error/) });
    expect(untyped).toMatchObject({ kind: 'refused', reason: expect.stringContaining('expected type range vector') });
  });

  it('accepts a placeholder typo as a label value: only the configuration check catches {{ver}}', async () => {
    expect(await provider.checkQuery({ expression: 'sum(rate(http_requests_total{version="{{ver}}"}[30s]))' })).toEqual({ kind: 'ok' });
  });
});

describe('Prometheus unreachable', () => {
  it('once stopped, a query is a DependencyUnavailableError naming the provider, after the retries', async () => {
    const doomed = await startPrometheus();
    const gone = createMetricsProvider({ kind: 'prometheus', name: 'prom-stopped', url: doomed.url, backoffBaseMs: 1, requestTimeoutMs: 1_000 });
    expect(await gone.queryRange({ expression: 'vector(1)' }, recentWindow())).toHaveLength(6);
    await doomed.stop();

    const error = await rejectionOf(gone.queryRange({ expression: 'vector(1)' }, recentWindow()));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ retryable: true, throttled: false });
    expect((error as DependencyUnavailableError).dependency).toContain('metrics provider prom-stopped');
    expect((error as Error).message).toMatch(/3 attempts/);
    expect((error as Error).message).toMatch(/ECONNREFUSED|fetch failed/);
    expect(await rejectionOf(gone.checkQuery({ expression: 'vector(1)' }))).toBeInstanceOf(DependencyUnavailableError);
  });
});
