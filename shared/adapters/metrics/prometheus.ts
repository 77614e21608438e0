/**
 * Prometheus (and anything that serves its HTTP API: Thanos, Mimir, Amazon Managed Prometheus
 * behind a signing proxy): `GET <url>/api/v1/query_range`, with node's fetch. No client library:
 * one GET and one JSON shape do not need one. https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries
 * checkQuery is one instant query (`GET <url>/api/v1/query`, at Prometheus' own now): it parses
 * and evaluates the expression over the least data, on every version (Debian's 2.42 answers 404
 * to `parse_query`; its `format_query` parses only, so it misses what fails when evaluated).
 *
 * Failures: 400 `bad_data` and 422 `execution` → ValidationError (rule `query`); 401/403 →
 * DependencyUnavailableError at once (a refusal does not heal by repeating); 5xx, 429, timeouts
 * and connection failures are retried (bounded, jittered backoff) and then →
 * DependencyUnavailableError naming the provider; any other answer → InternalError.
 */
import { ConfigError, DependencyUnavailableError, InternalError, ValidationError } from '../../domain/errors.js';
import type { MetricQuery, MetricsProvider, MetricsQueryChecker, MetricWindow, QueryCheck } from '../../ports/metrics-provider.js';
import { refusalOf } from './query-check.js';

/** How to present ourselves; Prometheus' own web config knows basic auth, proxies in front of it bearer tokens. */
export type PrometheusAuthorization = { kind: 'bearer'; token: string } | { kind: 'basic'; username: string; password: string };

export interface PrometheusSettings {
  kind: 'prometheus';
  /** The provider's configured name, for errors and recorded judgments. */
  name: string;
  /** The API's base, `http(s)://host:port[/prefix]` (no credentials in it: fetch refuses them; use `authorization`). */
  url: string;
  authorization?: PrometheusAuthorization;
  /** Per attempt: connect, headers and body together. */
  requestTimeoutMs?: number;
  /** Attempts per query, the first included. */
  maxAttempts?: number;
  /** Backoff before attempt n+1 is uniform in [0, backoffBaseMs * 2^(n-1)], capped at 2 s ("full jitter"). */
  backoffBaseMs?: number;
}

/** The parts of a query or query_range answer we read; anything may be missing in an unexpected one. */
interface QueryRangeAnswer {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; values?: [number, string][] }[] };
}

type Attempt = { kind: 'ok'; answer: QueryRangeAnswer } | { kind: 'retry'; cause: Error; throttled: boolean; retryAfterSeconds?: number } | { kind: 'fail'; error: Error };

const MAX_BACKOFF_MS = 2_000;
const QUERY_FIELD = 'query.expression';

export function createPrometheusProvider(settings: PrometheusSettings): MetricsProvider & MetricsQueryChecker {
  const base = URL.canParse(settings.url) ? new URL(settings.url) : undefined;
  if (base === undefined || !/^https?:$/.test(base.protocol)) throw new ConfigError(`metrics provider ${settings.name}: url "${settings.url}" is not an http(s) URL`, 'url');
  if (base.username !== '' || base.password !== '') throw new ConfigError(`metrics provider ${settings.name}: put credentials in "authorization", not in the URL`, 'url');
  const api = (path: string) => new URL(`${base.pathname.replace(/\/+$/, '')}/api/v1/${path}`, base);
  const rangeEndpoint = api('query_range');
  const instantEndpoint = api('query');
  const dependency = `metrics provider ${settings.name} (Prometheus at ${base.origin})`;
  const requestTimeoutMs = settings.requestTimeoutMs ?? 10_000;
  const maxAttempts = Math.max(1, settings.maxAttempts ?? 3);
  const backoffBaseMs = settings.backoffBaseMs ?? 200;
  const headers: Record<string, string> = { accept: 'application/json', ...authorizationHeader(settings.authorization) };

  async function attempt(url: URL, expression: string, verb: string): Promise<Attempt> {
    let response: Response;
    let text: string;
    try {
      // One signal for the whole exchange: a server that sends headers and then stalls the body is cut too.
      const signal = AbortSignal.timeout(requestTimeoutMs);
      response = await fetch(url, { headers, signal });
      text = await response.text();
    } catch (error) {
      return { kind: 'retry', cause: transportFailure(error, requestTimeoutMs), throttled: false };
    }
    const status = response.status;
    const answer = parseJson(text);
    if (status === 200 && answer?.status === 'success') return { kind: 'ok', answer };
    const said = answer?.error ? `${answer.errorType ?? 'error'}: ${answer.error}` : text.slice(0, 200);
    // https://prometheus.io/docs/prometheus/latest/querying/api/#format-overview: 400 when parameters
    // are missing or incorrect, 422 when an expression can't be executed.
    if ((status === 400 && answer?.errorType === 'bad_data') || (status === 422 && answer?.errorType === 'execution')) {
      return { kind: 'fail', error: new ValidationError(`metrics provider ${settings.name} refused the query "${expression}": ${said}`, QUERY_FIELD, 'query') };
    }
    if (status === 401 || status === 403) {
      return { kind: 'fail', error: new DependencyUnavailableError(dependency, verb, { cause: new Error(`HTTP ${status}: credentials refused: ${said}`) }) };
    }
    if (status === 429 || status >= 500) {
      return { kind: 'retry', cause: new Error(`HTTP ${status}: ${said}`), throttled: status === 429, retryAfterSeconds: retryAfterOf(response) };
    }
    return { kind: 'fail', error: new InternalError(`${dependency}: ${verb} answered HTTP ${status}: ${said} (is the URL the API's base?)`) };
  }

  /** One GET of `url`, retried on 5xx, 429 and transport failures (bounded, jittered backoff). */
  async function ask(url: URL, expression: string, verb: 'query_range' | 'query'): Promise<QueryRangeAnswer> {
    for (let n = 1; ; n++) {
      const outcome = await attempt(url, expression, verb);
      if (outcome.kind === 'ok') return outcome.answer;
      if (outcome.kind === 'fail') throw outcome.error;
      if (n >= maxAttempts) {
        const { cause, throttled, retryAfterSeconds } = outcome;
        throw new DependencyUnavailableError(dependency, `${verb} (${n} attempts)`, { cause, throttled, retryAfterSeconds });
      }
      await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, backoffBaseMs * 2 ** (n - 1)));
    }
  }

  return {
    name: settings.name,
    async queryRange(query: MetricQuery, window: MetricWindow): Promise<number[]> {
      checkWindow(settings.name, window);
      const url = new URL(rangeEndpoint);
      url.searchParams.set('query', query.expression);
      url.searchParams.set('start', seconds(window.start));
      url.searchParams.set('end', seconds(window.end));
      url.searchParams.set('step', String(window.stepSeconds));
      return valuesOf(await ask(url, query.expression, 'query_range'), settings.name, query.expression);
    },
    async checkQuery(query: MetricQuery): Promise<QueryCheck> {
      const url = new URL(instantEndpoint);
      url.searchParams.set('query', query.expression);
      try {
        await ask(url, query.expression, 'query');
        return { kind: 'ok' };
      } catch (error) {
        return refusalOf(error);
      }
    },
  };
}

/** The one series' values; "NaN", "+Inf" and "-Inf" are how Prometheus writes those floats (strconv.FormatFloat). */
function valuesOf(answer: QueryRangeAnswer, provider: string, expression: string): number[] {
  const data = answer.data;
  if (data?.resultType !== 'matrix' || !Array.isArray(data.result)) {
    throw new InternalError(`metrics provider ${provider}: query_range answered a ${String(data?.resultType)} result, not a matrix`);
  }
  if (data.result.length === 0) return [];
  if (data.result.length > 1) {
    const labels = data.result.slice(0, 3).map((series) => JSON.stringify(series.metric ?? {}));
    throw new ValidationError(
      `metrics provider ${provider}: query "${expression}" yields ${data.result.length} series (${labels.join(', ')}${data.result.length > 3 ? ', ...' : ''}); aggregate it to one, e.g. with sum()`,
      QUERY_FIELD,
      'one-series',
    );
  }
  return (data.result[0]!.values ?? []).map(([, value]) => parseSampleValue(value));
}

function parseSampleValue(value: string): number {
  if (value === '+Inf') return Infinity;
  if (value === '-Inf') return -Infinity;
  return Number(value); // "NaN" → NaN
}

function authorizationHeader(authorization: PrometheusAuthorization | undefined): Record<string, string> {
  if (authorization === undefined) return {};
  if (authorization.kind === 'bearer') return { authorization: `Bearer ${authorization.token}` };
  return { authorization: `Basic ${Buffer.from(`${authorization.username}:${authorization.password}`, 'utf8').toString('base64')}` };
}

function checkWindow(provider: string, window: MetricWindow): void {
  if (!(window.stepSeconds > 0)) throw new ValidationError(`metrics provider ${provider}: stepSeconds must be positive`, 'window.stepSeconds', 'positive');
  if (!(window.end.getTime() >= window.start.getTime())) throw new ValidationError(`metrics provider ${provider}: the window ends before it starts`, 'window.end', 'after-start');
}

/** Unix seconds with the milliseconds kept: Prometheus takes fractional timestamps. */
function seconds(date: Date): string {
  return String(date.getTime() / 1000);
}

/** Our signal's TimeoutError, or fetch's "fetch failed" TypeError whose cause says what happened (ECONNREFUSED, ECONNRESET, a DNS failure...). */
function transportFailure(error: unknown, timeoutMs: number): Error {
  if (error instanceof Error && error.name === 'TimeoutError') return new Error(`no answer within ${timeoutMs} ms`, { cause: error });
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (error instanceof Error && typeof cause?.code === 'string') return new Error(`${cause.code}: ${String(cause.message)}`, { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

function parseJson(text: string): QueryRangeAnswer | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as QueryRangeAnswer) : undefined;
  } catch {
    return undefined;
  }
}

function retryAfterOf(response: Response): number | undefined {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
