/**
 * HTTP backends on 127.0.0.1 that stand in for a version's pods and measure themselves the way an
 * instrumented service does: each answers with its version (or a 500, at a deterministic error
 * rate), optionally late, and serves `/metrics` in the Prometheus text format (0.0.4), written by
 * hand: `http_requests_total{version,code}` and the histogram `http_request_duration_seconds{version}`.
 * Plus steady traffic to send them (directly or through a proxy).
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
import { Agent, createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Endpoint } from '../../shared/domain/mesh.js';

export interface MeteredBackendOptions {
  version: string;
  /** Share of requests answered 500, 0-100. Deterministic: 20 fails exactly every 5th request. */
  errorPercent?: number;
  /** Added before every answer. */
  latencyMs?: number;
}

export interface MeteredBackend {
  version: string;
  port: number;
  /** `127.0.0.1:PORT`, for a scrape target. */
  address: string;
  endpoint: Endpoint;
  /** From the next request on; the rate counts from the change, so it is exact from there. */
  setErrorPercent(percent: number): void;
  setLatencyMs(ms: number): void;
  /** Requests answered so far (not counting `/metrics`), by status code. */
  answered(): Record<number, number>;
}

export interface MeteredBackends {
  backends: MeteredBackend[];
  /** The first backend of `version`. */
  get(version: string): MeteredBackend;
  stop(): Promise<void>;
}

/** The Prometheus client libraries' default buckets, in seconds. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export async function startMeteredBackends(options: readonly MeteredBackendOptions[]): Promise<MeteredBackends> {
  const started = await Promise.all(options.map((option) => startOne(option)));
  return {
    backends: started.map((s) => s.backend),
    get(version) {
      const found = started.find((s) => s.backend.version === version);
      if (!found) throw new Error(`no metered backend for version ${version}`);
      return found.backend;
    },
    stop: async () => {
      await Promise.all(started.map(({ server }) => new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      })));
    },
  };
}

async function startOne(options: MeteredBackendOptions): Promise<{ backend: MeteredBackend; server: Server }> {
  const { version } = options;
  let errorPercent = options.errorPercent ?? 0;
  let latencyMs = options.latencyMs ?? 0;
  let sinceChange = 0;
  // 200 and 500 from the start: a rate over a series that appears only at the first error would miss it.
  const byCode = new Map<number, number>([[200, 0], [500, 0]]);
  const buckets = LATENCY_BUCKETS_SECONDS.map(() => 0);
  let durationSum = 0;
  let durationCount = 0;

  const server = createServer((request, response) => {
    if (request.url === '/metrics') {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      return void response.end(exposition());
    }
    const startedAt = process.hrtime.bigint();
    // Request n fails when n × rate crosses a whole percent-of-100: exactly `errorPercent` in every 100, evenly spread.
    sinceChange++;
    const fails = Math.floor((sinceChange * errorPercent) / 100) > Math.floor(((sinceChange - 1) * errorPercent) / 100);
    const code = fails ? 500 : 200;
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      byCode.set(code, (byCode.get(code) ?? 0) + 1);
      LATENCY_BUCKETS_SECONDS.forEach((bound, i) => {
        if (seconds <= bound) buckets[i]!++;
      });
      durationSum += seconds;
      durationCount++;
    });
    const answer = () => {
      response.writeHead(code, { 'content-type': 'text/plain' });
      response.end(fails ? `${version} failed` : version);
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
  // Longer than any test: a proxy may reuse an idle connection, and a server closing it at that moment fails the request.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const port = (server.address() as AddressInfo).port;

  function exposition(): string {
    const v = `version="${version}"`;
    return [
      '# HELP http_requests_total Requests answered, by version and status code.',
      '# TYPE http_requests_total counter',
      ...[...byCode.entries()].map(([code, count]) => `http_requests_total{${v},code="${code}"} ${count}`),
      '# HELP http_request_duration_seconds Time from a request to the end of its answer.',
      '# TYPE http_request_duration_seconds histogram',
      // Buckets are cumulative: each counts every observation at or below its bound.
      ...LATENCY_BUCKETS_SECONDS.map((bound, i) => `http_request_duration_seconds_bucket{${v},le="${bound}"} ${buckets[i]}`),
      `http_request_duration_seconds_bucket{${v},le="+Inf"} ${durationCount}`,
      `http_request_duration_seconds_sum{${v}} ${durationSum}`,
      `http_request_duration_seconds_count{${v}} ${durationCount}`,
      '',
    ].join('\n');
  }

  const backend: MeteredBackend = {
    version,
    port,
    address: `127.0.0.1:${port}`,
    endpoint: { address: '127.0.0.1', port, zone: null },
    setErrorPercent: (percent) => {
      errorPercent = percent;
      sinceChange = 0;
    },
    setLatencyMs: (ms) => void (latencyMs = ms),
    answered: () => Object.fromEntries(byCode),
  };
  return { backend, server };
}

export interface Traffic {
  /** Stops sending, waits for the answers in flight, and gives every answer's count by status (0: no answer). */
  stop(): Promise<Record<number, number>>;
}

/**
 * Sends `GET /` to `127.0.0.1:port` at a steady `requestsPerSecond`, over at most `maxInFlight`
 * kept-alive connections; a slow server slows it rather than piling requests up.
 */
export function startTraffic(port: number, requestsPerSecond: number, maxInFlight = 16): Traffic {
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const counts: Record<number, number> = {};
  const inFlight = new Set<Promise<void>>();
  const startedAt = Date.now();
  let sent = 0;
  const send = () => {
    const done = new Promise<void>((resolve) => {
      const count = (status: number) => {
        counts[status] = (counts[status] ?? 0) + 1;
        resolve();
      };
      get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
        response.resume();
        response.on('end', () => count(response.statusCode ?? 0));
        response.on('error', () => count(0));
      }).on('error', () => count(0));
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - startedAt) / 1000) * requestsPerSecond);
    while (sent < due && inFlight.size < maxInFlight) {
      sent++;
      send();
    }
  }, 5);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
      agent.destroy();
      return counts;
    },
  };
}
