/**
 * A fake of Cloud Monitoring's `projects.timeSeries.list` on loopback, as @google-cloud/monitoring's
 * REST ("fallback") transport calls it: `GET /v3/projects/<p>/timeSeries?filter=...&interval.startTime=
 * ...&aggregation.alignmentPeriod=60s&...&$alt=json;enum-encoding=int` with `Authorization: Bearer
 * <token>`; answers `{timeSeries: [{metric, resource, metricKind, valueType, points}], nextPageToken}`
 * with points newest first, as Cloud Monitoring lists them. Errors are Google's JSON error envelope.
 *
 * Series are stored per filter (the fake evaluates and aligns nothing). Points are those whose
 * end time is in (startTime, endTime], the API's half-open interval. `setPageSize` cuts pages by
 * points, so one series may continue on the next page.
 */
import { createServer, type ServerResponse } from 'node:http';
import { listenOnLoopback, record, type RecordedRequest } from './loopback.js';

/** A point's value as the API types it; a bare number is a doubleValue. */
export type FakePointValue = number | { int64: number } | { distribution: { count: number; mean: number } } | { bool: boolean };

export interface FakeTimeSeries {
  metricLabels: Record<string, string>;
  points: readonly { at: Date; value: FakePointValue }[];
}

/** What the fake answers instead of data: a 500, a 503, 429 RESOURCE_EXHAUSTED, or nothing at all. */
export type CloudMonitoringFault = 'server' | 'unavailable' | 'throttle' | 'hang';

export interface FakeCloudMonitoring {
  /** For the client's API endpoint override. */
  endpoint: string;
  /** The only bearer token the fake accepts. */
  accessToken: string;
  requests: RecordedRequest[];
  setSeries(filter: string, series: readonly FakeTimeSeries[]): void;
  /** A list with `filter` answers 400 INVALID_ARGUMENT with `message`. */
  setMalformed(filter: string, message: string): void;
  /** At most `points` points per page. */
  setPageSize(points: number): void;
  /** The next `count` requests get `fault`. */
  failNext(count: number, fault: CloudMonitoringFault): void;
  /** Every request answers 403 PERMISSION_DENIED from now on. */
  denyAccess(): void;
  /** Forgets recorded requests, faults, page size and denial; keeps series. */
  reset(): void;
  stop(): Promise<void>;
}

const METRIC_TYPE = 'custom.googleapis.com/crossfade/contract';
/** google.api.MetricDescriptor enums, for callers that ask for numeric enums. */
const GAUGE = 1;
const VALUE_TYPES = { BOOL: 1, INT64: 2, DOUBLE: 3, DISTRIBUTION: 5 } as const;

export async function startFakeCloudMonitoring(accessToken = 'ya29.fake-monitoring-access-token'): Promise<FakeCloudMonitoring> {
  const series = new Map<string, readonly FakeTimeSeries[]>();
  const malformed = new Map<string, string>();
  const requests: RecordedRequest[] = [];
  const faults: CloudMonitoringFault[] = [];
  let pageSize = Number.POSITIVE_INFINITY;
  let denied = false;

  const server = createServer((request, response) => {
    const seen = record(request, requests);
    const fault = faults.shift();
    if (fault === 'hang') return; // stop() cuts the connection
    if (fault === 'server') return fail(response, 500, 'INTERNAL', 'Internal error encountered.');
    if (fault === 'unavailable') return fail(response, 503, 'UNAVAILABLE', 'The service is currently unavailable.');
    if (fault === 'throttle') return fail(response, 429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric \'Time series queries\' and limit \'Time series queries per minute\'.');
    if (request.headers.authorization !== `Bearer ${accessToken}`) {
      return fail(response, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
    }
    const match = /^\/v3\/projects\/([^/]+)\/timeSeries$/.exec(seen.path);
    if (request.method !== 'GET' || match === null) return fail(response, 404, 'NOT_FOUND', `no route ${request.method} ${seen.path}`);
    if (denied) return fail(response, 403, 'PERMISSION_DENIED', `Permission monitoring.timeSeries.list denied (or the resource may not exist).`);
    const filter = seen.query.get('filter') ?? '';
    const start = Date.parse(seen.query.get('interval.startTime') ?? '');
    const end = Date.parse(seen.query.get('interval.endTime') ?? '');
    const refusal = malformed.get(filter) ?? (filter === '' ? 'Field filter had an invalid value: must not be empty' : Number.isNaN(end) ? 'Field interval.endTime must be set' : undefined);
    if (refusal !== undefined) return fail(response, 400, 'INVALID_ARGUMENT', refusal);
    const numericEnums = (seen.query.get('$alt') ?? '').includes('enum-encoding=int');
    const offset = Number(seen.query.get('pageToken') ?? 0);
    send(response, 200, page(series.get(filter) ?? [], Number.isNaN(start) ? -Infinity : start, end, offset, pageSize, numericEnums));
  });
  const { port, stop } = await listenOnLoopback(server);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessToken,
    requests,
    setSeries: (filter, list) => void series.set(filter, list),
    setMalformed: (filter, message) => void malformed.set(filter, message),
    setPageSize: (points) => void (pageSize = points),
    failNext: (count, fault) => faults.push(...Array.from({ length: count }, () => fault)),
    denyAccess: () => void (denied = true),
    reset: () => {
      requests.length = 0;
      faults.length = 0;
      pageSize = Number.POSITIVE_INFINITY;
      denied = false;
    },
    stop,
  };
}

/** One page: the points after `offset` (series by series, each newest first), at most `pageSize` of them. */
function page(list: readonly FakeTimeSeries[], startMs: number, endMs: number, offset: number, pageSize: number, numericEnums: boolean): Record<string, unknown> {
  const all = list.map((series) => ({
    series,
    points: series.points.filter((p) => p.at.getTime() > startMs && p.at.getTime() <= endMs).sort((a, b) => b.at.getTime() - a.at.getTime()),
  }));
  const total = all.reduce((sum, s) => sum + s.points.length, 0);
  let skip = offset;
  let room = pageSize;
  const timeSeries: Record<string, unknown>[] = [];
  for (const { series, points } of all) {
    const taken = points.slice(skip, skip + room);
    skip = Math.max(0, skip - points.length);
    room -= taken.length;
    if (taken.length === 0) continue;
    const valueType = valueTypeOf(taken[0]!.value);
    timeSeries.push({
      metric: { type: METRIC_TYPE, labels: series.metricLabels },
      resource: { type: 'global', labels: { project_id: 'crossfade-test' } },
      metricKind: numericEnums ? GAUGE : 'GAUGE',
      valueType: numericEnums ? VALUE_TYPES[valueType] : valueType,
      points: taken.map((p) => ({ interval: { startTime: p.at.toISOString(), endTime: p.at.toISOString() }, value: jsonValue(p.value) })),
    });
  }
  const next = Math.min(offset + pageSize, total);
  // Cloud Monitoring answers `{}` when nothing matches: no timeSeries field at all.
  return { ...(timeSeries.length > 0 && { timeSeries }), ...(next < total && { nextPageToken: String(next) }) };
}

function valueTypeOf(value: FakePointValue): keyof typeof VALUE_TYPES {
  if (typeof value === 'number') return 'DOUBLE';
  if ('int64' in value) return 'INT64';
  if ('bool' in value) return 'BOOL';
  return 'DISTRIBUTION';
}

/** proto3 JSON: int64 as a string, non-finite doubles as "NaN", "Infinity", "-Infinity". */
function jsonValue(value: FakePointValue): Record<string, unknown> {
  if (typeof value === 'number') return { doubleValue: Number.isFinite(value) ? value : String(value) };
  if ('int64' in value) return { int64Value: String(value.int64) };
  if ('bool' in value) return { boolValue: value.bool };
  return { distributionValue: { count: String(value.distribution.count), mean: value.distribution.mean } };
}

function fail(response: ServerResponse, code: number, status: string, message: string): void {
  send(response, code, { error: { code, message, status } });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
