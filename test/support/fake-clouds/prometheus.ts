/**
 * A fake of Prometheus' HTTP query API on loopback, for suites that create deployments naming an
 * analysis but never judge one: every instant query (the preflight of create, usecases/
 * preflight-analysis.ts) and range query answers an empty success. Queries are parsed by a real
 * Prometheus in the suites about analysis (prometheus.test.ts, preflight-analysis.test.ts).
 */
import { createServer } from 'node:http';
import { listenOnLoopback, record, type RecordedRequest } from './loopback.js';

export interface FakePrometheus {
  url: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

export async function startFakePrometheus(): Promise<FakePrometheus> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const recorded = record(request, requests);
    request.resume();
    request.on('end', () => {
      const known = recorded.path === '/api/v1/query' || recorded.path === '/api/v1/query_range';
      response.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify(known ? { status: 'success', data: { resultType: recorded.path.endsWith('range') ? 'matrix' : 'vector', result: [] } } : { status: 'error', errorType: 'not_found', error: recorded.path }));
    });
  });
  const { port, stop } = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, requests, stop };
}
