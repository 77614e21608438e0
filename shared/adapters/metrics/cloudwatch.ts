/**
 * Amazon CloudWatch: `GetMetricData` with one query, a metric math or Metrics Insights expression,
 * through @aws-sdk/client-cloudwatch (which speaks awsJson1_0 with awsQueryCompatible error codes
 * since 3.9xx). The SDK retries throttling, 5xx, timeouts and connection failures (`maxAttempts`,
 * its own backoff); what is left is mapped here.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
 * The SDK is imported with the first query, so only a function that judges a canary loads it.
 */
import type * as CloudWatch from '@aws-sdk/client-cloudwatch';
import type { CloudWatchClient, GetMetricDataCommandOutput, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DependencyUnavailableError, InternalError, ValidationError } from '../../domain/errors.js';
import type { MetricQuery, MetricsProvider, MetricsQueryChecker, MetricWindow, QueryCheck } from '../../ports/metrics-provider.js';
import type { AwsCredentialsProvider } from '../clusters/eks.js';
import { probeWindow, refusalOf } from './query-check.js';
import { commonJs } from '../first-use-import.js';

export interface CloudWatchSettings {
  kind: 'cloudwatch';
  /** The provider's configured name, for errors and recorded judgments. */
  name: string;
  region: string;
  /** Tests only: a fake CloudWatch API, `http://127.0.0.1:PORT`. Default: the regional endpoint. */
  endpoint?: string;
  /** Default: the SDK's default chain (the Lambda's role, environment, profile). */
  credentials?: AwsCredentialsProvider;
  /** Per attempt (the SDK makes up to maxAttempts). */
  requestTimeoutMs?: number;
  /** Attempts per page, the first included. */
  maxAttempts?: number;
}

/** The one query's id; results of a SEARCH() expression all carry it, told apart by label. */
const QUERY_ID = 'm';
/** GetMetricData answers at most 100,800 points a page; 100 pages is far past any analysis window. A loop guard. */
const MAX_PAGES = 100;
const QUERY_FIELD = 'query.expression';

/** Query refusals by error name, and by awsQuery code (the SDK keeps the latter as `Code`). */
const QUERY_REFUSALS = new Set([
  'InvalidParameterValueException', 'InvalidParameterCombinationException', 'MissingRequiredParameterException', 'ValidationException',
  'InvalidParameterValue', 'InvalidParameterCombination', 'MissingParameter', 'ValidationError', 'InvalidFormat',
]);
const AUTH_FAILURES = new Set([
  'AccessDenied', 'AccessDeniedException', 'UnrecognizedClientException', 'InvalidClientTokenId', 'SignatureDoesNotMatch',
  'IncompleteSignature', 'MissingAuthenticationToken', 'ExpiredToken', 'ExpiredTokenException', 'CredentialsProviderError',
]);
const THROTTLES = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);
const TRANSIENT_FAILURES = new Set(['InternalServiceFault', 'InternalServiceError', 'ServiceUnavailable', 'ServiceUnavailableException', 'TimeoutError', 'RequestTimeout']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

interface Series {
  label: string;
  points: { atMs: number; value: number }[];
}

export function createCloudWatchProvider(settings: CloudWatchSettings): MetricsProvider & MetricsQueryChecker & { close(): Promise<void> } {
  const dependency = `metrics provider ${settings.name} (CloudWatch in ${settings.region})`;
  let client: CloudWatchClient | undefined;
  let connecting: Promise<{ client: CloudWatchClient; GetMetricDataCommand: typeof CloudWatch.GetMetricDataCommand }> | undefined;

  // Built on first use, kept for the cold start.
  function cloudWatch() {
    connecting ??= import('@aws-sdk/client-cloudwatch').then(commonJs).then(({ CloudWatchClient, GetMetricDataCommand }) => {
      const timeoutMs = settings.requestTimeoutMs ?? 10_000;
      client = new CloudWatchClient({
        region: settings.region,
        endpoint: settings.endpoint,
        credentials: settings.credentials,
        maxAttempts: settings.maxAttempts ?? 3,
        // Without throwOnRequestTimeout, @smithy/node-http-handler 4.x only logs a warning when
        // requestTimeout passes, and a server that never answers holds the query forever.
        requestHandler: { connectionTimeout: Math.min(timeoutMs, 3_000), requestTimeout: timeoutMs, throwOnRequestTimeout: true },
      });
      return { client, GetMetricDataCommand };
    });
    return connecting;
  }

  async function page(query: MetricQuery, window: MetricWindow, nextToken: string | undefined): Promise<GetMetricDataCommandOutput> {
    try {
      const { client: cloudWatchClient, GetMetricDataCommand } = await cloudWatch();
      return await cloudWatchClient.send(
        new GetMetricDataCommand({
          MetricDataQueries: [{ Id: QUERY_ID, Expression: query.expression, Period: window.stepSeconds, ReturnData: true }],
          StartTime: window.start,
          // EndTime is exclusive and a point is stamped with the start of its period, so the point
          // stamped `end` (which the port includes) needs EndTime one period later.
          EndTime: new Date(window.end.getTime() + window.stepSeconds * 1000),
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
        }),
      );
    } catch (error) {
      throw cloudWatchFailure(error, settings.name, dependency, query.expression);
    }
  }

  return {
    name: settings.name,
    async queryRange(query: MetricQuery, window: MetricWindow): Promise<number[]> {
      checkWindow(settings.name, window);
      // A result comes back in pieces while its StatusCode is PartialData: the rest is behind NextToken.
      const series = new Map<string, Series>();
      let nextToken: string | undefined;
      for (let pages = 1; ; pages++) {
        const answer = await page(query, window, nextToken);
        for (const result of answer.MetricDataResults ?? []) collect(result, series, dependency);
        nextToken = answer.NextToken || undefined;
        if (nextToken === undefined) break;
        if (pages >= MAX_PAGES) throw new InternalError(`${dependency}: GetMetricData still had a NextToken after ${MAX_PAGES} pages`);
      }
      const withData = [...series.values()].filter((s) => s.points.length > 0);
      if (withData.length === 0) return [];
      if (withData.length > 1) {
        const labels = withData.slice(0, 3).map((s) => JSON.stringify(s.label));
        throw new ValidationError(
          `metrics provider ${settings.name}: expression "${query.expression}" yields ${withData.length} time series (${labels.join(', ')}${withData.length > 3 ? ', ...' : ''}); aggregate it to one, e.g. SUM(SEARCH(...)) or a Metrics Insights query without GROUP BY`,
          QUERY_FIELD,
          'one-series',
        );
      }
      return withData[0]!.points.sort((a, b) => a.atMs - b.atMs).map((p) => p.value);
    },
    // One page of the last minute: CloudWatch checks the expression (a 400 ValidationError) before it reads any data.
    async checkQuery(query: MetricQuery): Promise<QueryCheck> {
      try {
        const answer = await page(query, probeWindow(new Date()), undefined);
        for (const result of answer.MetricDataResults ?? []) collect(result, new Map(), dependency);
        return { kind: 'ok' };
      } catch (error) {
        return refusalOf(error);
      }
    },
    async close() {
      client?.destroy();
      client = undefined;
      connecting = undefined;
    },
  };
}

/** Adds one page's result to its series (same id and label: a continuation). */
function collect(result: MetricDataResult, series: Map<string, Series>, dependency: string): void {
  const detail = (result.Messages ?? []).map((m) => `${m.Code}: ${m.Value}`).join('; ');
  if (result.StatusCode === 'Forbidden') {
    throw new DependencyUnavailableError(dependency, 'GetMetricData', { cause: new Error(`credentials refused for the data (StatusCode Forbidden) ${detail}`) });
  }
  if (result.StatusCode === 'InternalError') {
    throw new DependencyUnavailableError(dependency, 'GetMetricData', { cause: new Error(`StatusCode InternalError ${detail}`) });
  }
  const label = result.Label ?? '';
  const key = `${result.Id ?? ''}\u0000${label}`;
  let entry = series.get(key);
  if (entry === undefined) series.set(key, (entry = { label, points: [] }));
  const timestamps = result.Timestamps ?? [];
  const values = result.Values ?? [];
  for (let i = 0; i < timestamps.length; i++) entry.points.push({ atMs: timestamps[i]!.getTime(), value: values[i] ?? NaN });
}

/** Turns an SDK failure (after the SDK's own retries) into the project's error. */
function cloudWatchFailure(error: unknown, provider: string, dependency: string, expression: string): Error {
  const name = error instanceof Error ? error.name : '';
  const code = (error as { Code?: unknown } | null)?.Code;
  const message = error instanceof Error ? error.message : String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  const fault = (error as { $fault?: string } | null)?.$fault;
  const named = (set: Set<string>) => set.has(name) || (typeof code === 'string' && set.has(code));
  const withCode = error as { code?: string; cause?: { code?: string } } | null;
  const networkCode = withCode?.code ?? withCode?.cause?.code ?? '';
  if (named(AUTH_FAILURES) || status === 401 || status === 403) {
    return new DependencyUnavailableError(dependency, 'GetMetricData', { cause: new Error(`credentials refused: ${name}: ${message}`, { cause: error }) });
  }
  if (named(THROTTLES) || status === 429) return new DependencyUnavailableError(dependency, 'GetMetricData', { cause: error, throttled: true });
  if (named(TRANSIENT_FAILURES) || (status !== undefined && status >= 500) || NETWORK_CODES.has(networkCode)) {
    return new DependencyUnavailableError(dependency, 'GetMetricData', { cause: error });
  }
  // What is left of a 400 from the service is about the query (CloudWatch reports a bad expression as ValidationError).
  if (named(QUERY_REFUSALS) || (fault === 'client' && status === 400 && name !== 'InvalidNextToken')) {
    return new ValidationError(`metrics provider ${provider} refused the expression "${expression}": ${name}: ${message}`, QUERY_FIELD, 'query');
  }
  return new InternalError(`${dependency}: GetMetricData failed: ${name || 'Error'}: ${message}`, { cause: error });
}

function checkWindow(provider: string, window: MetricWindow): void {
  if (!(window.stepSeconds > 0)) throw new ValidationError(`metrics provider ${provider}: stepSeconds must be positive`, 'window.stepSeconds', 'positive');
  if (!(window.end.getTime() >= window.start.getTime())) throw new ValidationError(`metrics provider ${provider}: the window ends before it starts`, 'window.end', 'after-start');
}
