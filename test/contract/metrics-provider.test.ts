/**
 * The MetricsProvider contract (shared/ports/metrics-provider.ts), run against every adapter on its
 * system: a real Prometheus (samples backfilled at fixed times with promtool, its own basic auth
 * on, a relay in front for faults), and fakes of CloudWatch GetMetricData and Cloud Monitoring
 * timeSeries.list that speak the wire protocols the SDKs use. Every system holds the same cases.
 */
import { OAuth2Client } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsProvider, createMetricsProviders, type ClosableMetricsProvider, type MetricsProviderSettings } from '../../shared/adapters/metrics/index.js';
import { ConfigError, DependencyUnavailableError, NotFoundError, ValidationError } from '../../shared/domain/errors.js';
import type { MetricQuery, MetricWindow } from '../../shared/ports/metrics-provider.js';
import { rejectionOf } from '../support/errors.js';
import { startFakeCloudMonitoring, type FakeCloudMonitoring } from '../support/fake-clouds/cloud-monitoring.js';
import { startFakeCloudWatch, type FakeCloudWatch } from '../support/fake-clouds/cloudwatch.js';
import { startFaultyRelay, startPrometheus, TEST_BASIC_AUTH, type FaultyRelay, type PrometheusInstance } from '../support/prometheus.js';

const STEP_SECONDS = 60;
/** Whole minutes, two hours back: within Prometheus' retention, before its head block, a valid CloudWatch period. */
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 3_600_000;
const at = (i: number) => new Date(T0 + i * STEP_SECONDS * 1000);
/** The window whose points are the first `points` sample times. */
const windowOf = (points: number): MetricWindow => ({ start: at(0), end: at(points - 1), stepSeconds: STEP_SECONDS });

/** Every system holds these series (one list of values per series, at at(0), at(1), ...); `none` has no data. */
const CASES = {
  rising: [[1, 2, 3, 4, 5]],
  special: [[1.5, NaN, Infinity, -Infinity]],
  long: [Array.from({ length: 12 }, (_, i) => i * 10)],
  pair: [[1, 2, 3], [4, 5, 6]],
  none: [],
} satisfies Record<string, number[][]>;
type Case = keyof typeof CASES;

type Fault = 'server' | 'throttle' | 'hang';
const MAX_ATTEMPTS = 3;
const TIMEOUT_MS = 1_000;

interface Target {
  /** A provider on the system, built by the factory; `refused` presents credentials the system refuses. */
  provider(credentials?: 'refused'): ClosableMetricsProvider;
  query(name: Case): MetricQuery;
  malformed: MetricQuery;
  failNext(count: number, fault: Fault): void;
  pageSize(points: number): void;
  /** Requests the system (or the relay before it) received since the last reset. */
  attempts(): number;
  /** The window of the last request, in the system's own terms, checked against what the adapter must send. */
  expectAskedFor(window: MetricWindow): void;
  /** The last request was the cheapest the system offers for checking `query`. */
  expectCheckedCheaply(query: MetricQuery): void;
  reset(): void;
  stop(): Promise<void>;
}

async function prometheusTarget(): Promise<Target> {
  const prometheus: PrometheusInstance = await startPrometheus({ backfill: openMetrics(), basicAuth: true });
  const relay: FaultyRelay = await startFaultyRelay(prometheus.url);
  const selector = (name: Case) => `crossfade_contract{case="${name}"}`;
  return {
    provider: (credentials) =>
      createMetricsProvider({
        kind: 'prometheus', name: 'prom-contract', url: relay.url, requestTimeoutMs: TIMEOUT_MS, maxAttempts: MAX_ATTEMPTS, backoffBaseMs: 1,
        authorization: { kind: 'basic', username: TEST_BASIC_AUTH.username, password: credentials === 'refused' ? 'wrong' : TEST_BASIC_AUTH.password },
      }),
    query: (name) => ({ expression: selector(name) }),
    malformed: { expression: `sum(${selector('rising')}` },
    failNext: (count, fault) => relay.failNext(count, fault),
    pageSize: () => {}, // query_range answers in one piece
    attempts: () => relay.requests.length,
    expectAskedFor: (window) => {
      const query = relay.requests.at(-1)!.query;
      expect([query.get('start'), query.get('end'), query.get('step')]).toEqual([String(window.start.getTime() / 1000), String(window.end.getTime() / 1000), String(window.stepSeconds)]);
    },
    expectCheckedCheaply: (query) => {
      // An instant query at Prometheus' own now: no range to evaluate.
      const last = relay.requests.at(-1)!;
      expect([last.path, last.query.get('query'), last.query.get('time')]).toEqual(['/api/v1/query', query.expression, null]);
    },
    reset: () => relay.reset(),
    stop: async () => {
      await relay.stop();
      await prometheus.stop();
    },
  };
}

/** The cases as OpenMetrics samples, for promtool. */
function openMetrics(): string {
  const text = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));
  const lines = Object.entries(CASES).flatMap(([name, series]) =>
    series.flatMap((values, n) => values.map((v, i) => `crossfade_contract{case="${name}",n="${n}"} ${text(v)} ${at(i).getTime() / 1000}`)),
  );
  return ['# HELP crossfade_contract Values the contract expects back.', '# TYPE crossfade_contract gauge', ...lines, '# EOF', ''].join('\n');
}

async function cloudWatchTarget(): Promise<Target> {
  const fake: FakeCloudWatch = await startFakeCloudWatch();
  const expression = (name: Case) => `SELECT AVG(Value) FROM SCHEMA("Crossfade/Contract", "Case") WHERE "Case" = '${name}'`;
  for (const [name, series] of Object.entries(CASES)) {
    if (series.length > 0) fake.setSeries(expression(name as Case), series.map((values, n) => ({ label: `${name} ${n}`, points: values.map((value, i) => ({ at: at(i), value })) })));
  }
  fake.setMalformed('SELECT AVG(', 'Error in expression m: Syntax error at line 1, column 11: unexpected end of query');
  return {
    provider: (credentials) =>
      createMetricsProvider({
        kind: 'cloudwatch', name: 'cw-contract', region: 'us-east-1', endpoint: fake.endpoint, requestTimeoutMs: TIMEOUT_MS, maxAttempts: MAX_ATTEMPTS,
        credentials: async () => ({ accessKeyId: credentials === 'refused' ? 'AKIAREVOKEDREVOKED' : fake.accessKeyId, secretAccessKey: 'fakesecretfakesecret' }),
      }),
    query: (name) => ({ expression: expression(name) }),
    malformed: { expression: 'SELECT AVG(' },
    failNext: (count, fault) => fake.failNext(count, fault),
    pageSize: (points) => fake.setPageSize(points),
    attempts: () => fake.requests.length,
    expectAskedFor: (window) => {
      const call = fake.calls.at(-1)!;
      // EndTime is exclusive in CloudWatch: one period past the last point wanted.
      expect(call).toMatchObject({ id: 'm', periodSeconds: window.stepSeconds, start: window.start, end: new Date(window.end.getTime() + window.stepSeconds * 1000), scanBy: 'TimestampAscending' });
    },
    expectCheckedCheaply: (query) => {
      // The last minute, one period.
      const call = fake.calls.at(-1)!;
      expect(call).toMatchObject({ expression: query.expression, periodSeconds: 60 });
      expect(call.end.getTime() - call.start.getTime()).toBe(120_000);
    },
    reset: () => fake.reset(),
    stop: () => fake.stop(),
  };
}

async function cloudMonitoringTarget(): Promise<Target> {
  const fake: FakeCloudMonitoring = await startFakeCloudMonitoring();
  const filter = (name: Case) => `metric.type = "custom.googleapis.com/crossfade/contract" AND metric.labels.case = "${name}"`;
  for (const [name, series] of Object.entries(CASES)) {
    fake.setSeries(filter(name as Case), series.map((values, n) => ({ metricLabels: { case: name, n: String(n) }, points: values.map((value, i) => ({ at: at(i), value })) })));
  }
  fake.setMalformed('metric.type = ', 'Field filter had an invalid value of "metric.type = ": Expected a value after "=".');
  return {
    provider: (credentials) => {
      const auth = new OAuth2Client();
      auth.setCredentials({ access_token: credentials === 'refused' ? 'ya29.revoked' : fake.accessToken, expiry_date: Date.now() + 3_600_000 });
      return createMetricsProvider({
        kind: 'cloud-monitoring', name: 'gcm-contract', project: 'crossfade-test', apiEndpoint: fake.endpoint, auth, requestTimeoutMs: TIMEOUT_MS, maxAttempts: MAX_ATTEMPTS, backoffBaseMs: 1,
      });
    },
    query: (name) => ({ expression: filter(name) }),
    malformed: { expression: 'metric.type = ' },
    failNext: (count, fault) => fake.failNext(count, fault === 'server' ? 'unavailable' : fault),
    pageSize: (points) => fake.setPageSize(points),
    attempts: () => fake.requests.length,
    expectAskedFor: (window) => {
      const query = fake.requests.at(-1)!.query;
      // The interval is (startTime, endTime]: one period before the first point wanted.
      expect([query.get('interval.startTime'), query.get('interval.endTime'), query.get('aggregation.alignmentPeriod')]).toEqual([
        new Date(window.start.getTime() - window.stepSeconds * 1000).toISOString(), window.end.toISOString(), `${window.stepSeconds}s`,
      ]);
    },
    expectCheckedCheaply: (query) => {
      // One page of one series, over the last minute.
      const asked = fake.requests.at(-1)!.query;
      expect([asked.get('filter'), asked.get('pageSize'), asked.get('aggregation.alignmentPeriod')]).toEqual([query.expression, '1', '60s']);
      expect(fake.requests).toHaveLength(1);
    },
    reset: () => fake.reset(),
    stop: () => fake.stop(),
  };
}

const targets = [
  ['prometheus', prometheusTarget],
  ['cloudwatch', cloudWatchTarget],
  ['cloud-monitoring', cloudMonitoringTarget],
] as const;

describe.each(targets)('MetricsProvider on %s', (_kind, startTarget) => {
  let target: Target;
  const providers: ClosableMetricsProvider[] = [];
  const provider = (credentials?: 'refused') => {
    const built = target.provider(credentials);
    providers.push(built);
    return built;
  };

  beforeAll(async () => {
    target = await startTarget();
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
    target.reset();
  });
  afterAll(() => target?.stop());

  it("answers the series' values in time order, one per point", async () => {
    expect(await provider().queryRange(target.query('rising'), windowOf(5))).toEqual([1, 2, 3, 4, 5]);
  });

  it('asks the system for exactly the window: its first and last points included, one point per step', async () => {
    await provider().queryRange(target.query('rising'), windowOf(5));

    target.expectAskedFor(windowOf(5));
  });

  it('gives NaN, +Inf and -Inf as the numbers they name', async () => {
    expect(await provider().queryRange(target.query('special'), windowOf(4))).toEqual([1.5, NaN, Infinity, -Infinity]);
  });

  it('answers [] when the system has no data for the query in the window', async () => {
    expect(await provider().queryRange(target.query('none'), windowOf(5))).toEqual([]);
  });

  it('puts a series answered in pieces back together, in order', async () => {
    target.pageSize(5);

    expect(await provider().queryRange(target.query('long'), windowOf(12))).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
  });

  it('refuses a query that yields several series: ValidationError one-series, naming the query', async () => {
    const query = target.query('pair');

    const error = await rejectionOf(provider().queryRange(query, windowOf(3)));

    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ rule: 'one-series', field: 'query.expression' });
    expect((error as Error).message).toContain(query.expression);
    expect((error as Error).message).toMatch(/yields 2 (time )?series/);
  });

  it('passes on the system refusing a malformed query: ValidationError rule query, naming it, not retried', async () => {
    const error = await rejectionOf(provider().queryRange(target.malformed, windowOf(5)));

    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ rule: 'query', field: 'query.expression' });
    expect((error as Error).message).toContain(target.malformed.expression);
    expect(target.attempts()).toBe(1);
  });

  it('retries 5xx answers, and answers once the system recovers', async () => {
    target.failNext(2, 'server');

    expect(await provider().queryRange(target.query('rising'), windowOf(5))).toEqual([1, 2, 3, 4, 5]);
    expect(target.attempts()).toBe(3);
  });

  it('after its retries, 5xx is a DependencyUnavailableError naming the provider', async () => {
    target.failNext(10, 'server');
    const built = provider();

    const error = await rejectionOf(built.queryRange(target.query('rising'), windowOf(5)));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ retryable: true, throttled: false });
    expect((error as DependencyUnavailableError).dependency).toContain(`metrics provider ${built.name}`);
    expect(target.attempts()).toBe(MAX_ATTEMPTS);
  });

  it('after its retries, throttling is a DependencyUnavailableError that says it was throttled', async () => {
    target.failNext(10, 'throttle');

    const error = await rejectionOf(provider().queryRange(target.query('rising'), windowOf(5)));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ throttled: true });
    expect(target.attempts()).toBe(MAX_ATTEMPTS);
  });

  it('gives up on a system that does not answer in time: DependencyUnavailableError', async () => {
    target.failNext(10, 'hang');

    const error = await rejectionOf(provider().queryRange(target.query('rising'), windowOf(5)));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(target.attempts()).toBe(MAX_ATTEMPTS);
  });

  it('credentials refused: DependencyUnavailableError, not throttled, not retried, naming provider and refusal', async () => {
    const built = provider('refused');

    const error = await rejectionOf(built.queryRange(target.query('rising'), windowOf(5)));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ throttled: false });
    expect((error as Error).message).toContain(`metrics provider ${built.name}`);
    expect((error as Error).message).toContain('credentials refused');
    expect(target.attempts()).toBe(1);
  });

  it('refuses a window that ends before it starts, without asking the system', async () => {
    const error = await rejectionOf(provider().queryRange(target.query('rising'), { start: at(4), end: at(0), stepSeconds: STEP_SECONDS }));

    expect(error).toMatchObject({ name: 'ValidationError', field: 'window.end' });
    expect(target.attempts()).toBe(0);
  });

  describe('checkQuery (MetricsQueryChecker)', () => {
    it('answers ok for a query the system runs, asking it once, as cheaply as it can', async () => {
      expect(await provider().checkQuery(target.query('long'))).toEqual({ kind: 'ok' });
      target.expectCheckedCheaply(target.query('long'));
      expect(target.attempts()).toBe(1);
    });

    it('answers ok for a query without data: the canary has no traffic yet', async () => {
      expect(await provider().checkQuery(target.query('none'))).toEqual({ kind: 'ok' });
    });

    it('answers ok for a query yielding several series: only the judgment needs one', async () => {
      expect(await provider().checkQuery(target.query('pair'))).toEqual({ kind: 'ok' });
    });

    it('answers refused, naming the query, for one the system refuses as malformed, without retrying', async () => {
      const check = await provider().checkQuery(target.malformed);

      expect(check).toMatchObject({ kind: 'refused', part: 'expression' });
      expect((check as { reason: string }).reason).toContain(target.malformed.expression);
      expect(target.attempts()).toBe(1);
    });

    it('retries 5xx answers, then throws DependencyUnavailableError naming the provider', async () => {
      target.failNext(10, 'server');
      const built = provider();

      const error = await rejectionOf(built.checkQuery(target.query('rising')));

      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect((error as DependencyUnavailableError).dependency).toContain(`metrics provider ${built.name}`);
      expect(target.attempts()).toBe(MAX_ATTEMPTS);
    });

    it('credentials refused: DependencyUnavailableError, not a refusal of the query', async () => {
      const error = await rejectionOf(provider('refused').checkQuery(target.query('rising')));

      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect((error as Error).message).toContain('credentials refused');
    });
  });
});

describe('Cloud Monitoring specifics', () => {
  let fake: FakeCloudMonitoring;
  let provider: ClosableMetricsProvider;
  const filter = 'metric.type = "custom.googleapis.com/crossfade/kinds"';

  beforeAll(async () => {
    fake = await startFakeCloudMonitoring();
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: fake.accessToken, expiry_date: Date.now() + 3_600_000 });
    provider = createMetricsProvider({ kind: 'cloud-monitoring', name: 'gcm', project: 'crossfade-test', apiEndpoint: fake.endpoint, auth, backoffBaseMs: 1 });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await provider?.close();
    await fake?.stop();
  });

  it('reads int64 values, a distribution by its mean (NaN when empty) and booleans as 0 and 1', async () => {
    fake.setSeries(filter, [{ metricLabels: {}, points: [
      { at: at(0), value: { int64: 7 } },
      { at: at(1), value: { distribution: { count: 3, mean: 2.5 } } },
      { at: at(2), value: { distribution: { count: 0, mean: 0 } } },
      { at: at(3), value: { bool: true } },
    ] }]);

    expect(await provider.queryRange({ expression: filter }, windowOf(4))).toEqual([7, 2.5, NaN, 1]);
  });

  it('asks for the aligner and reducer given (ALIGN_MEAN and no reducer by default), as the full view', async () => {
    await provider.queryRange({ expression: filter }, windowOf(4));
    await provider.queryRange({ expression: filter, aligner: 'ALIGN_RATE', reducer: 'REDUCE_SUM' }, windowOf(4));

    // The REST transport sends enums as numbers (`$alt=json;enum-encoding=int`): ALIGN_MEAN 12, ALIGN_RATE 2, REDUCE_SUM 4, FULL 0.
    const sent = fake.requests.map((r) => [r.query.get('aggregation.perSeriesAligner'), r.query.get('aggregation.crossSeriesReducer'), r.query.get('view')]);
    expect(sent).toEqual([['12', null, '0'], ['2', '4', '0']]);
    expect(fake.requests[0]!.path).toBe('/v3/projects/crossfade-test/timeSeries');
  });

  it('a check refuses an aligner or reducer Cloud Monitoring does not have, naming which, without asking it', async () => {
    expect(await provider.checkQuery({ expression: filter, aligner: 'ALIGN_AVERAGE' })).toMatchObject({ kind: 'refused', part: 'aligner' });
    expect(await provider.checkQuery({ expression: filter, reducer: 'REDUCE_AVERAGE' })).toMatchObject({ kind: 'refused', part: 'reducer' });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses an aligner or reducer Cloud Monitoring does not have, without asking it', async () => {
    const error = await rejectionOf(provider.queryRange({ expression: filter, aligner: 'ALIGN_AVERAGE' }, windowOf(4)));

    expect(error).toMatchObject({ name: 'ValidationError', field: 'query.aligner', rule: 'query' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('createMetricsProvider', () => {
  it('refuses a kind it does not know: ConfigError, never a fallback', () => {
    expect(() => createMetricsProvider({ kind: 'datadog', name: 'dd' } as unknown as MetricsProviderSettings)).toThrow(ConfigError);
    expect(() => createMetricsProvider({ kind: 'datadog', name: 'dd' } as unknown as MetricsProviderSettings)).toThrow(/kind "datadog" is none of prometheus, cloudwatch, cloud-monitoring/);
  });

  it('refuses credentials in a Prometheus URL: they belong in authorization', () => {
    expect(() => createMetricsProvider({ kind: 'prometheus', name: 'p', url: 'http://user:secret@127.0.0.1:9090' })).toThrow(ConfigError);
  });

  it('holds providers by name: a second with one name is a ConfigError, an unknown name NotFoundError', async () => {
    const settings: MetricsProviderSettings[] = [
      { kind: 'prometheus', name: 'prom', url: 'http://127.0.0.1:9' },
      { kind: 'cloudwatch', name: 'cw', region: 'us-east-1' },
    ];
    const providers = createMetricsProviders(settings);

    expect(providers.get('cw').name).toBe('cw');
    expect(() => providers.get('nope')).toThrow(NotFoundError);
    expect(() => createMetricsProviders([...settings, { kind: 'cloud-monitoring', name: 'prom', project: 'crossfade-test' }])).toThrow(ConfigError);
    await providers.close();
  });
});
