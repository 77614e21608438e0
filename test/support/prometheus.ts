/**
 * A real Prometheus (Debian's 2.42, `/usr/bin/prometheus`) for integration and contract tests,
 * everything on 127.0.0.1: a temp dir with a generated prometheus.yml that scrapes the given
 * targets every second, its TSDB, optionally samples backfilled at fixed times with promtool and
 * Prometheus' own basic auth; started as a child process and stopped by PID. Plus a relay that
 * stands in front of it and can be told to fail, for fault tests.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenOnLoopback } from './fake-clouds/loopback.js';
import { freePort } from './ports.js';

export interface ScrapeTarget {
  job: string;
  /** `127.0.0.1:PORT` of something serving `/metrics` in the Prometheus text format. */
  address: string;
  /** Target labels, added to every series scraped from it. */
  labels?: Record<string, string>;
}

export interface PrometheusOptions {
  targets?: readonly ScrapeTarget[];
  /** OpenMetrics text with timestamps (ending `# EOF`), written into the TSDB with promtool before start. */
  backfill?: string;
  /** Require TEST_BASIC_AUTH on every endpoint, with Prometheus' own web config. */
  basicAuth?: boolean;
}

export interface PrometheusInstance {
  /** The API's base, `http://127.0.0.1:PORT`. */
  url: string;
  pid: number;
  /** What every API request needs (basic auth, when required). */
  headers: Record<string, string>;
  /**
   * Polls a range query over the last `lookbackSeconds` (step 1 s) until its first series has at
   * least `minPoints` points, and answers them. Scrapes and rule-free queries need a few seconds.
   */
  waitForSamples(query: string, minPoints: number, options?: { timeoutMs?: number; lookbackSeconds?: number }): Promise<number[]>;
  stop(): Promise<void>;
}

/** The only user a basicAuth instance knows. */
export const TEST_BASIC_AUTH = {
  username: 'crossfade',
  password: 'crossfade-test',
  // bcrypt, cost 4 so every request stays fast: perl -e 'print crypt("crossfade-test", q($2b$04$abcdefghijklmnopqrstuu))'
  bcrypt: '$2b$04$abcdefghijklmnopqrstuudVHD/KHArbL4qlomVku0vvlKvxsNLcy',
} as const;

/** Debian installs both in /usr/bin, which a trimmed PATH may lack. */
const env = { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/bin` };

export async function startPrometheus(options: PrometheusOptions = {}): Promise<PrometheusInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-prometheus-'));
  try {
    const tsdb = join(dir, 'tsdb');
    if (options.backfill !== undefined) {
      writeFileSync(join(dir, 'backfill.om'), options.backfill);
      execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'backfill.om'), tsdb], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    }
    // JSON is YAML: no YAML writer needed for either file.
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(configOf(options.targets ?? []), null, 2));
    const args = [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${tsdb}`, '--log.level=warn'];
    const headers: Record<string, string> = {};
    if (options.basicAuth) {
      writeFileSync(join(dir, 'web.yml'), JSON.stringify({ basic_auth_users: { [TEST_BASIC_AUTH.username]: TEST_BASIC_AUTH.bcrypt } }));
      args.push(`--web.config.file=${join(dir, 'web.yml')}`);
      headers['authorization'] = `Basic ${Buffer.from(`${TEST_BASIC_AUTH.username}:${TEST_BASIC_AUTH.password}`).toString('base64')}`;
    }
    const { child, port } = await launch(args, headers);
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      pid: child.pid!,
      headers,
      waitForSamples: (query, minPoints, wait) => waitForSamples(url, headers, query, minPoints, wait),
      stop: async () => {
        await halt(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function configOf(targets: readonly ScrapeTarget[]): Record<string, unknown> {
  const jobs = [...new Set(targets.map((target) => target.job))];
  return {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: jobs.map((job) => ({
      job_name: job,
      static_configs: targets.filter((target) => target.job === job).map((target) => ({ targets: [target.address], labels: target.labels ?? {} })),
    })),
  };
}

/**
 * Starts Prometheus on a free port and waits until `/-/ready` answers. freePort's port may be
 * taken again before Prometheus binds it; then it exits at once, and another port is tried.
 */
async function launch(args: readonly string[], headers: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  let stderr = '';
  for (let start = 0; start < 3; start++) {
    const port = await freePort();
    const child = spawn('prometheus', [...args, `--web.listen-address=127.0.0.1:${port}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8_000)));
    child.once('error', (error) => (stderr += String(error)));
    for (let attempt = 0; attempt < 300 && child.exitCode === null && child.signalCode === null; attempt++) {
      const ready = await fetch(`http://127.0.0.1:${port}/-/ready`, { headers, signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
      if (ready) return { child, port };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await halt(child);
    if (!stderr.includes('address already in use')) break;
  }
  throw new Error(`Prometheus did not start:\n${stderr}`);
}

/** SIGTERM, then SIGKILL if it is still there after 5 s. */
async function halt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  child.kill('SIGTERM');
  const stopped = await Promise.race([exited, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))]);
  if (!stopped) {
    child.kill('SIGKILL');
    await exited;
  }
}

async function waitForSamples(url: string, headers: Record<string, string>, query: string, minPoints: number, options: { timeoutMs?: number; lookbackSeconds?: number } = {}): Promise<number[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last = '';
  for (;;) {
    const endSeconds = Date.now() / 1000;
    const params = new URLSearchParams({ query, start: String(endSeconds - (options.lookbackSeconds ?? 30)), end: String(endSeconds), step: '1' });
    const response = await fetch(`${url}/api/v1/query_range?${params}`, { headers, signal: AbortSignal.timeout(5_000) });
    last = await response.text();
    const values = (JSON.parse(last) as { data?: { result?: { values: [number, string][] }[] } }).data?.result?.[0]?.values ?? [];
    if (values.length >= minPoints) return values.map(([, value]) => Number(value));
    if (Date.now() > deadline) throw new Error(`Prometheus: fewer than ${minPoints} points for ${query}; last answer: ${last.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What the relay answers instead of relaying: Prometheus' 500, its 503 for a query timeout, a proxy's 429, or nothing. */
export type PrometheusFault = 'server' | 'unavailable' | 'throttle' | 'hang';

export interface FaultyRelay {
  /** Use as a provider's `url`: everything is relayed to Prometheus unless a fault is queued. */
  url: string;
  /** Every request's path and query, and its headers. */
  requests: { path: string; query: URLSearchParams; headers: IncomingHttpHeaders }[];
  failNext(count: number, fault: PrometheusFault): void;
  /** Forgets recorded requests and queued faults. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startFaultyRelay(upstream: string): Promise<FaultyRelay> {
  const target = new URL(upstream);
  const requests: FaultyRelay['requests'] = [];
  const faults: PrometheusFault[] = [];
  const server = createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://relay');
    requests.push({ path: url.pathname, query: url.searchParams, headers: incoming.headers });
    const fault = faults.shift();
    if (fault === 'hang') return; // stop() cuts the connection
    if (fault === 'server') return json(outgoing, 500, { status: 'error', errorType: 'internal', error: 'unexpected error: relay told to fail' });
    if (fault === 'unavailable') return json(outgoing, 503, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' });
    if (fault === 'throttle') {
      outgoing.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '2' });
      return void outgoing.end('Too Many Requests\n');
    }
    const relayed = httpRequest({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    relayed.on('error', (error) => json(outgoing, 502, { status: 'error', errorType: 'unavailable', error: String(error) }));
    incoming.pipe(relayed);
  });
  const { port, stop } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (count, fault) => faults.push(...Array.from({ length: count }, () => fault)),
    reset: () => {
      requests.length = 0;
      faults.length = 0;
    },
    stop,
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return void response.destroy();
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
