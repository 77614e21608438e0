/**
 * A fake of CloudWatch's GetMetricData on loopback, in the protocol @aws-sdk/client-cloudwatch
 * 3.1164 speaks: awsJson1_0 (`POST /`, `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`,
 * `application/x-amz-json-1.0`, timestamps as epoch seconds) with awsQueryCompatible errors: the
 * JSON body's `__type` plus `x-amzn-query-error: <awsQuery code>;Sender|Receiver`, from which the
 * SDK names the error. Requests must be SigV4-signed for service `monitoring` by `accessKeyId`.
 *
 * Series are stored per expression (the fake evaluates nothing). Points are filtered as CloudWatch
 * does: StartTime inclusive, EndTime exclusive; pages are cut by `setPageSize`, each one but the
 * last with StatusCode PartialData and a NextToken.
 */
import { createServer, type ServerResponse } from 'node:http';
import { listenOnLoopback, record, withBody, type RecordedRequest } from './loopback.js';

export interface FakeCloudWatchSeries {
  /** What CloudWatch reports as the result's Label (a SEARCH() result per metric has its own). */
  label: string;
  points: readonly { at: Date; value: number }[];
}

/** What the fake answers instead of data: a 500, a 503, throttling, or nothing at all. */
export type CloudWatchFault = 'server' | 'unavailable' | 'throttle' | 'hang';

export interface GetMetricDataCall {
  expression: string;
  id: string;
  periodSeconds: number;
  start: Date;
  end: Date;
  scanBy: string | undefined;
  nextToken: string | undefined;
}

export interface FakeCloudWatch {
  /** For CloudWatchClient's `endpoint`. */
  endpoint: string;
  /** The only access key id whose signature the fake accepts. */
  accessKeyId: string;
  requests: RecordedRequest[];
  /** Every GetMetricData the fake answered or refused, parsed. */
  calls: GetMetricDataCall[];
  setSeries(expression: string, series: readonly FakeCloudWatchSeries[]): void;
  /** GetMetricData of `expression` answers 400 ValidationError with `message`. */
  setMalformed(expression: string, message: string): void;
  /** At most `points` data points per page. */
  setPageSize(points: number): void;
  /** The next `count` requests get `fault`. */
  failNext(count: number, fault: CloudWatchFault): void;
  /** Every request answers 403 AccessDenied from now on. */
  denyAccess(): void;
  /** Forgets recorded requests, faults, page size and denial; keeps series. */
  reset(): void;
  stop(): Promise<void>;
}

const TARGET = 'GraniteServiceVersion20100801.GetMetricData';
const ACCOUNT = '111122223333';

export async function startFakeCloudWatch(accessKeyId = 'AKIAFAKEFAKEFAKE'): Promise<FakeCloudWatch> {
  const series = new Map<string, readonly FakeCloudWatchSeries[]>();
  const malformed = new Map<string, string>();
  const requests: RecordedRequest[] = [];
  const calls: GetMetricDataCall[] = [];
  const faults: CloudWatchFault[] = [];
  let pageSize = Number.POSITIVE_INFINITY;
  let denied = false;

  const server = createServer((request, response) => {
    const seen = record(request, requests);
    withBody(request, (text) => {
      const fault = faults.shift();
      if (fault === 'hang') return; // stop() cuts the connection
      if (fault === 'server') return fail(response, 500, 'com.amazonaws.cloudwatch#InternalServiceFault', 'InternalServiceError;Receiver', 'Internal service error.');
      if (fault === 'unavailable') return fail(response, 503, 'ServiceUnavailable', 'ServiceUnavailable;Receiver', 'Service is unavailable.');
      if (fault === 'throttle') return fail(response, 400, 'ThrottlingException', 'Throttling;Sender', 'Rate exceeded');
      const credential = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/[a-z0-9-]+\/monitoring\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/.exec(String(request.headers.authorization ?? ''));
      if (credential?.[1] !== accessKeyId) {
        return fail(response, 403, 'InvalidClientTokenId', 'InvalidClientTokenId;Sender', 'The security token included in the request is invalid.');
      }
      if (denied) {
        return fail(response, 403, 'AccessDenied', 'AccessDenied;Sender', `User: arn:aws:sts::${ACCOUNT}:assumed-role/crossfade/fn is not authorized to perform: cloudwatch:GetMetricData because no identity-based policy allows the cloudwatch:GetMetricData action`);
      }
      if (request.method !== 'POST' || seen.path !== '/' || request.headers['x-amz-target'] !== TARGET) {
        return fail(response, 400, 'UnknownOperationException', 'UnknownOperation;Sender', `fake CloudWatch: no operation ${String(request.headers['x-amz-target'])}`);
      }
      const call = parseCall(text);
      if (typeof call === 'string') return fail(response, 400, 'com.amazonaws.cloudwatch#ValidationException', 'ValidationError;Sender', call);
      calls.push(call);
      const refusal = malformed.get(call.expression) ?? periodProblem(call.periodSeconds);
      if (refusal !== undefined) return fail(response, 400, 'com.amazonaws.cloudwatch#ValidationException', 'ValidationError;Sender', refusal);
      send(response, 200, answer(call, series.get(call.expression) ?? [{ label: call.id, points: [] }], pageSize));
    });
  });
  const { port, stop } = await listenOnLoopback(server);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId,
    requests,
    calls,
    setSeries: (expression, list) => void series.set(expression, list),
    setMalformed: (expression, message) => void malformed.set(expression, message),
    setPageSize: (points) => void (pageSize = points),
    failNext: (count, fault) => faults.push(...Array.from({ length: count }, () => fault)),
    denyAccess: () => void (denied = true),
    reset: () => {
      requests.length = 0;
      calls.length = 0;
      faults.length = 0;
      pageSize = Number.POSITIVE_INFINITY;
      denied = false;
    },
    stop,
  };
}

/** GetMetricDataInput as awsJson1_0 sends it, or what is wrong with it. */
function parseCall(text: string): GetMetricDataCall | string {
  let body: { MetricDataQueries?: { Id?: string; Expression?: string; Period?: number }[]; StartTime?: number; EndTime?: number; ScanBy?: string; NextToken?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return 'fake CloudWatch: the body is not JSON';
  }
  const queries = body.MetricDataQueries ?? [];
  const query = queries[0];
  if (queries.length !== 1 || !query?.Expression || !query.Id) return 'fake CloudWatch: exactly one MetricDataQuery with an Id and an Expression, please';
  if (typeof body.StartTime !== 'number' || typeof body.EndTime !== 'number') return 'The parameter StartTime and EndTime must be timestamps.';
  return {
    expression: query.Expression,
    id: query.Id,
    periodSeconds: query.Period ?? 0,
    start: new Date(body.StartTime * 1000),
    end: new Date(body.EndTime * 1000),
    scanBy: body.ScanBy,
    nextToken: body.NextToken,
  };
}

/** As CloudWatch checks Period: 1, 5, 10, 30 (high resolution) or a multiple of 60. */
function periodProblem(period: number): string | undefined {
  if ([1, 5, 10, 30].includes(period) || (period > 0 && period % 60 === 0)) return undefined;
  return `The parameter MetricDataQueries.member.1.Period must be a multiple of 60 or one of 1, 5, 10, 30.`;
}

/** One page: points of every series, in order, from the token's offset on. */
function answer(call: GetMetricDataCall, list: readonly FakeCloudWatchSeries[], pageSize: number): Record<string, unknown> {
  const points = list.flatMap((series) =>
    series.points
      .filter((p) => p.at.getTime() >= call.start.getTime() && p.at.getTime() < call.end.getTime())
      .map((p) => ({ label: series.label, at: p.at, value: p.value }))
      .sort((a, b) => (call.scanBy === 'TimestampAscending' ? 1 : -1) * (a.at.getTime() - b.at.getTime())),
  );
  const offset = call.nextToken === undefined ? 0 : Number(call.nextToken.replace('page-', ''));
  const page = points.slice(offset, offset + pageSize);
  const more = offset + page.length < points.length;
  const results = list.map((series) => {
    const mine = page.filter((p) => p.label === series.label);
    return {
      Id: call.id,
      Label: series.label,
      Timestamps: mine.map((p) => p.at.getTime() / 1000),
      // awsJson writes the non-finite doubles as strings.
      Values: mine.map((p) => (Number.isFinite(p.value) ? p.value : String(p.value))),
      StatusCode: more ? 'PartialData' : 'Complete',
    };
  });
  return { MetricDataResults: results, Messages: [], ...(more && { NextToken: `page-${offset + page.length}` }) };
}

function fail(response: ServerResponse, status: number, type: string, queryError: string, message: string): void {
  response.setHeader('x-amzn-query-error', queryError);
  send(response, status, { __type: type, message });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': crypto.randomUUID() });
  response.end(text);
}
