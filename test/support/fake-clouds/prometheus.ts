/**
 * A fake of Prometheus' HTTP query API on loopback. Every instant query (the preflight of create,
 * usecases/preflight-analysis.ts) answers an empty success. A range query (the judge) answers what
 * `range` says for its expression: a series of values, one point per `step` from `start` (as many
 * as given, whatever the window: a run shortened by CROSSFADE_LOCAL_WAIT_MS still gets enough
 * points to judge), a refusal worded as Prometheus words an expression it cannot execute (422
 * `execution`), or, by default, an empty result. Queries are parsed by a real Prometheus in the
 * suites about analysis (prometheus.test.ts, preflight-analysis.test.ts).
 */
import { createServer } from 'node:http';
import { listenOnLoopback, record, type RecordedRequest } from './loopback.js';

export type RangeAnswer = { values: readonly number[] } | { refuse: string };

export interface FakePrometheusOptions {
  /** What `query_range` answers for an expression; undefined: an empty result. */
  range?: (expression: string) => RangeAnswer | undefined;
}

export interface FakePrometheus {
  url: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

export async function startFakePrometheus(options: FakePrometheusOptions = {}): Promise<FakePrometheus> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const recorded = record(request, requests);
    request.resume();
    request.on('end', () => {
      const [status, body] = answer(recorded, options);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });
  const { port, stop } = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, requests, stop };
}

function answer(recorded: RecordedRequest, options: FakePrometheusOptions): [number, unknown] {
  if (recorded.path === '/api/v1/query') return [200, { status: 'success', data: { resultType: 'vector', result: [] } }];
  if (recorded.path !== '/api/v1/query_range') return [404, { status: 'error', errorType: 'not_found', error: recorded.path }];
  const given = options.range?.(recorded.query.get('query') ?? '');
  if (given === undefined) return [200, { status: 'success', data: { resultType: 'matrix', result: [] } }];
  if ('refuse' in given) return [422, { status: 'error', errorType: 'execution', error: given.refuse }];
  const start = Number(recorded.query.get('start'));
  const step = Number(recorded.query.get('step'));
  const values = given.values.map((value, i) => [start + i * step, String(value)]);
  return [200, { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values }] } }];
}

/** Twelve points around `level`: the same for baseline and canary passes the judge, a higher canary fails it. */
export const series = (level: number): RangeAnswer => ({ values: Array.from({ length: 12 }, (_, i) => level + (i % 3) / 1000) });

/**
 * An analysis template judging one critical metric, the 5xx rate, read from provider `provider`
 * every second of the window (runs shortened by CROSSFADE_LOCAL_WAIT_MS still get points): what
 * `series` makes pass or fail.
 */
export function errorRateTemplate(name: string, provider: string): Record<string, unknown> {
  return {
    name,
    stepSeconds: 1,
    thresholds: { pass: 70, marginal: 50 },
    groupWeights: { errors: 100 },
    metrics: [
      {
        name: 'error-ratio',
        group: 'errors',
        provider,
        query: 'sum(rate(http_requests_total{service="{{service}}",version="{{version}}",code=~"5.."}[30s]))',
        direction: 'increase',
        critical: true,
        noData: 'fail',
        spreadCheck: false,
      },
    ],
  };
}
