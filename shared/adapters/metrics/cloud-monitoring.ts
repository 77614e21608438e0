/**
 * Google Cloud Monitoring: `projects.timeSeries.list` with a monitoring filter, aligned to the
 * window's step, through @google-cloud/monitoring's REST ("fallback") transport.
 * https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list
 *
 * Retries are ours (bounded, jittered backoff), with google-gax's turned off: its ListTimeSeries
 * config retries UNAVAILABLE only, and when it gives up it reports DEADLINE_EXCEEDED "Exceeded
 * maximum number of retries", hiding the answer that made it retry.
 */
import type * as Monitoring from '@google-cloud/monitoring';
import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import type { GoogleAuth, AuthClient } from 'google-auth-library';
import { DependencyUnavailableError, InternalError, ValidationError } from '../../domain/errors.js';
import type { MetricQuery, MetricsProvider, MetricsQueryChecker, MetricWindow, QueryCheck } from '../../ports/metrics-provider.js';
import { probeWindow, refusalOf } from './query-check.js';
import { commonJs } from '../first-use-import.js';

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;
type Point = protos.google.monitoring.v3.IPoint;
type Timestamp = protos.google.protobuf.ITimestamp;

export interface CloudMonitoringSettings {
  kind: 'cloud-monitoring';
  /** The provider's configured name, for errors and recorded judgments. */
  name: string;
  /** The project whose metrics are read (its metrics scope may span more projects). */
  project: string;
  /** Tests only: a fake Cloud Monitoring API, `http://127.0.0.1:PORT`. Default: monitoring.googleapis.com. */
  apiEndpoint?: string;
  /** Default: Application Default Credentials (a function's service account), monitoring.read scope. */
  auth?: GoogleAuth | AuthClient;
  /** Per attempt, every page of the listing included. */
  requestTimeoutMs?: number;
  /** Attempts per query, the first included. */
  maxAttempts?: number;
  /** Backoff before attempt n+1 is uniform in [0, backoffBaseMs * 2^(n-1)], capped at 2 s ("full jitter"). */
  backoffBaseMs?: number;
}

const MONITORING_READ_SCOPE = 'https://www.googleapis.com/auth/monitoring.read';
const MAX_BACKOFF_MS = 2_000;
const QUERY_FIELD = 'query.expression';
/** gRPC status codes, which google-gax reports for REST calls too. */
const Code = { InvalidArgument: 3, NotFound: 5, PermissionDenied: 7, ResourceExhausted: 8, Unauthenticated: 16 } as const;
const TRANSIENT_CODES = new Set([1, 4, 8, 10, 13, 14]); // CANCELLED (a timeout), DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

export function createCloudMonitoringProvider(settings: CloudMonitoringSettings): MetricsProvider & MetricsQueryChecker & { close(): Promise<void> } {
  const dependency = `metrics provider ${settings.name} (Cloud Monitoring, project ${settings.project})`;
  const requestTimeoutMs = settings.requestTimeoutMs ?? 10_000;
  const maxAttempts = Math.max(1, settings.maxAttempts ?? 3);
  const backoffBaseMs = settings.backoffBaseMs ?? 200;
  let library: typeof Monitoring | undefined;
  let metrics: MetricServiceClient | undefined;

  // Built on first use, REST rather than gRPC, and imported on first use, as gke.ts does and for its reasons.
  async function client(): Promise<{ client: MetricServiceClient; library: typeof Monitoring }> {
    library ??= commonJs(await import('@google-cloud/monitoring'));
    if (metrics === undefined) {
      // google-auth-library too is loaded with the first query, not at cold start.
      const auth = settings.auth ?? new (commonJs(await import('google-auth-library'))).GoogleAuth({ scopes: [MONITORING_READ_SCOPE] });
      const override = settings.apiEndpoint === undefined ? undefined : new URL(settings.apiEndpoint);
      metrics = new library.MetricServiceClient({
        fallback: true,
        // google-gax carries its own copy of google-auth-library; it calls only what both versions share.
        authClient: auth as never,
        ...(override && { protocol: override.protocol.replace(':', ''), apiEndpoint: override.hostname, port: Number(override.port) }),
      });
    }
    return { client: metrics, library };
  }

  /** Every page, or with `firstPageOnly` one page of at most one series (all a check needs). */
  async function list(query: MetricQuery, window: MetricWindow, firstPageOnly = false): Promise<TimeSeries[]> {
    const { client: metricService, library: { protos } } = await client();
    const aggregation = protos.google.monitoring.v3.Aggregation;
    const request: protos.google.monitoring.v3.IListTimeSeriesRequest = {
      name: `projects/${settings.project}`,
      filter: query.expression,
      // The interval is (startTime, endTime] and an aligned point covers (t - period, t]: starting
      // one period early keeps the point stamped `start`, which the port includes.
      interval: { startTime: timestamp(window.start.getTime() - window.stepSeconds * 1000), endTime: timestamp(window.end.getTime()) },
      aggregation: {
        alignmentPeriod: { seconds: Math.floor(window.stepSeconds), nanos: Math.round((window.stepSeconds % 1) * 1e9) },
        perSeriesAligner: enumValue(aggregation.Aligner, 'aligner', query.aligner ?? 'ALIGN_MEAN', settings.name),
        ...(query.reducer !== undefined && { crossSeriesReducer: enumValue(aggregation.Reducer, 'reducer', query.reducer, settings.name) }),
      },
      view: 'FULL',
      ...(firstPageOnly && { pageSize: 1 }),
    };
    for (let n = 1; ; n++) {
      try {
        // autoPaginate follows nextPageToken and concatenates every page's timeSeries.
        const [series] = await metricService.listTimeSeries(request, { timeout: requestTimeoutMs, retry: null, autoPaginate: !firstPageOnly });
        return series;
      } catch (error) {
        const failure = monitoringFailure(error, settings.name, dependency, query.expression);
        if (!(failure instanceof DependencyUnavailableError) || !isTransient(error) || n >= maxAttempts) throw failure;
      }
      await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, backoffBaseMs * 2 ** (n - 1)));
    }
  }

  return {
    name: settings.name,
    async queryRange(query: MetricQuery, window: MetricWindow): Promise<number[]> {
      checkWindow(settings.name, window);
      // One series may continue on the next page: pieces with the same metric and resource are one.
      const byIdentity = new Map<string, Point[]>();
      for (const series of await list(query, window)) {
        const key = identity(series);
        byIdentity.set(key, [...(byIdentity.get(key) ?? []), ...(series.points ?? [])]);
      }
      const withData = [...byIdentity.entries()].filter(([, points]) => points.length > 0);
      if (withData.length === 0) return [];
      if (withData.length > 1) {
        throw new ValidationError(
          `metrics provider ${settings.name}: filter "${query.expression}" yields ${withData.length} time series (${withData.slice(0, 3).map(([key]) => key).join(', ')}${withData.length > 3 ? ', ...' : ''}); give a reducer (e.g. REDUCE_SUM) or narrow the filter`,
          QUERY_FIELD,
          'one-series',
        );
      }
      // Cloud Monitoring lists points newest first; the port wants time order.
      return withData[0]![1]
        .map((point) => ({ atMs: millisOf(point.interval?.endTime), value: valueOf(point) }))
        .sort((a, b) => a.atMs - b.atMs)
        .map((p) => p.value);
    },
    // timeSeries.list checks the filter, aligner and reducer (400 INVALID_ARGUMENT) before it reads any data.
    async checkQuery(query: MetricQuery): Promise<QueryCheck> {
      try {
        await list(query, probeWindow(new Date()), true);
        return { kind: 'ok' };
      } catch (error) {
        return refusalOf(error);
      }
    },
    async close() {
      await metrics?.close();
      metrics = undefined;
    },
  };
}

/** doubleValue, int64Value (a string in JSON), boolValue as 0/1, a distribution's mean; NaN for anything else. */
function valueOf(point: Point): number {
  const value = point.value;
  if (value === null || value === undefined) return NaN;
  if (value.doubleValue !== null && value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.int64Value !== null && value.int64Value !== undefined) return Number(String(value.int64Value));
  if (value.boolValue !== null && value.boolValue !== undefined) return value.boolValue ? 1 : 0;
  const distribution = value.distributionValue;
  if (distribution !== null && distribution !== undefined) return Number(String(distribution.count ?? 0)) > 0 ? Number(distribution.mean ?? NaN) : NaN;
  return NaN;
}

/**
 * The enum's name, checked: protobufjs turns a name it does not know into 0 (ALIGN_NONE,
 * REDUCE_NONE) without a word, which would answer unaligned data instead of an error.
 */
function enumValue<E extends object>(values: E, field: 'aligner' | 'reducer', name: string, provider: string): keyof E {
  if (typeof (values as Record<string, unknown>)[name] !== 'number') throw new ValidationError(`metrics provider ${provider}: ${field} "${name}" is not a Cloud Monitoring ${field}`, `query.${field}`, 'query');
  return name as keyof E;
}

/** A series' metric and resource, labels sorted: what tells two series apart. */
function identity(series: TimeSeries): string {
  const sorted = (labels: Record<string, string> | null | undefined) => Object.fromEntries(Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify({ metric: [series.metric?.type ?? '', sorted(series.metric?.labels)], resource: [series.resource?.type ?? '', sorted(series.resource?.labels)] });
}

/** Turns a google-gax failure into the project's error, naming the provider. */
function monitoringFailure(error: unknown, provider: string, dependency: string, expression: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === Code.InvalidArgument) return new ValidationError(`metrics provider ${provider} refused the filter "${expression}": ${message}`, QUERY_FIELD, 'query');
  if (code === Code.PermissionDenied || code === Code.Unauthenticated) {
    return new DependencyUnavailableError(dependency, 'timeSeries.list', { cause: new Error(`credentials refused: ${message}`, { cause: error }) });
  }
  if (isTransient(error)) return new DependencyUnavailableError(dependency, 'timeSeries.list', { cause: error, throttled: code === Code.ResourceExhausted });
  if (code === Code.NotFound) return new InternalError(`${dependency}: timeSeries.list: ${message} (is the project right?)`, { cause: error });
  return new InternalError(`${dependency}: timeSeries.list failed: ${message}`, { cause: error });
}

function isTransient(error: unknown): boolean {
  const withCode = error as { code?: unknown; cause?: { code?: unknown } } | null;
  if (typeof withCode?.code === 'number') return TRANSIENT_CODES.has(withCode.code);
  const code = withCode?.code ?? withCode?.cause?.code;
  return (typeof code === 'string' && NETWORK_CODES.has(code)) || (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));
}

function checkWindow(provider: string, window: MetricWindow): void {
  if (!(window.stepSeconds > 0)) throw new ValidationError(`metrics provider ${provider}: stepSeconds must be positive`, 'window.stepSeconds', 'positive');
  if (!(window.end.getTime() >= window.start.getTime())) throw new ValidationError(`metrics provider ${provider}: the window ends before it starts`, 'window.end', 'after-start');
}

function timestamp(ms: number): Timestamp {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

function millisOf(time: Timestamp | null | undefined): number {
  return Number(String(time?.seconds ?? 0)) * 1000 + Math.round((time?.nanos ?? 0) / 1e6);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
