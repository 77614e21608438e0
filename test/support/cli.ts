/**
 * The `crossfade` command as an operator runs it: `bin/crossfade.mjs` in a child process (the
 * bin `npx crossfade` runs), with its exit code, stdout and stderr; and an `npm start` for it to
 * talk to, configured with a read-only token for another service (the 403s), a fake Prometheus
 * that judges some services' canaries failing, and shortened waits.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hashToken } from '../../shared/http/auth.js';
import { errorRateTemplate, series, startFakePrometheus, type FakePrometheus } from './fake-clouds/prometheus.js';
import { startStack, stopLocalProcess, waitFor, type LocalProcess } from './local-process.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `crossfade <args>` with `env` over a clean environment: no CROSSFADE_* of the test process,
 * HOME a fresh directory unless given (no contexts file but the test's), no colour settings.
 */
export function crossfade(args: readonly string[], env: Record<string, string | undefined> = {}, stdin?: string): Promise<CliRun> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CROSSFADE_') && key !== 'NO_COLOR' && key !== 'FORCE_COLOR'));
  const merged = Object.entries({ ...inherited, HOME: mkdtempSync(join(tmpdir(), 'crossfade-cli-home-')), ...env }).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return new Promise((done) => {
    const child = execFile(process.execPath, [join(ROOT, 'bin', 'crossfade.mjs'), ...args], { cwd: ROOT, env: Object.fromEntries(merged), timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (_error, stdout, stderr) =>
      done({ code: child.exitCode, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

/** Runs them all, a few at a time (each is a Node process on a 2-core machine). */
export async function crossfadeAll(runs: readonly { args: readonly string[]; env?: Record<string, string | undefined> }[], concurrency = 4): Promise<CliRun[]> {
  const results: CliRun[] = new Array(runs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < runs.length) {
        const index = next++;
        results[index] = await crossfade(runs[index]!.args, runs[index]!.env);
      }
    }),
  );
  return results;
}

export interface CliStack {
  url: string;
  adminToken: string;
  /** `read:elsewhere`: known, and refused (403) anything about other services. */
  narrowToken: string;
  /** The environment that points the CLI at this stack as the admin. */
  env: Record<string, string>;
  process: LocalProcess;
  prometheus: FakePrometheus;
  /** A request to the API as the admin, its status and parsed document. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export const TEMPLATE = 'cli-golden';

/**
 * `npm start` on a fresh data directory. Canaries of services named `doomed-…` are judged failing
 * (their canary `v2` errs 30 times as often as the baseline); every other judgment passes.
 * `extraConfig`: more top-level keys of crossfade.yaml (policy rules).
 */
export async function startCliStack(extraConfig: Record<string, unknown> = {}): Promise<CliStack> {
  const prometheus = await startFakePrometheus({
    range: (expression) => series(/service="doomed-[^"]*"/.test(expression) && expression.includes('version="v2"') ? 0.3 : 0.01),
  });
  const adminToken = `cf_cli_admin_${randomUUID()}`;
  const narrowToken = `cf_cli_narrow_${randomUUID()}`;
  const { process: started, url, dir } = await startStack({
    label: 'cli-stack',
    config: { ...stackConfig(prometheus.url, narrowToken), ...extraConfig },
    adminToken,
    env: { CROSSFADE_LOCAL_WAIT_MS: '200', CROSSFADE_LOCAL_RETRY_MS: '300' },
  });
  const api = async <T>(method: string, path: string, body?: unknown) => {
    const answer = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${adminToken}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await answer.text();
    return { status: answer.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
  return {
    url,
    adminToken,
    narrowToken,
    env: { CROSSFADE_URL: url, CROSSFADE_TOKEN: adminToken },
    process: started,
    prometheus,
    api,
    async stop() {
      await stopLocalProcess(started);
      await prometheus.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until deployment `id` satisfies `condition` (a bound, not an assertion on time). */
export async function waitForDeployment(stack: CliStack, id: string, condition: (doc: { status: string; phase: string; step: { index: number } }) => boolean, what: string): Promise<void> {
  await waitFor(async () => condition((await stack.api<{ status: string; phase: string; step: { index: number } }>('GET', `/v1/deployments/${id}`)).body), 60_000, what);
}

function stackConfig(prometheusUrl: string, narrowToken: string): Record<string, unknown> {
  return {
    clusters: [
      { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' },
      { name: 'gke-usc1', cloud: 'gcp', project: 'crossfade-local', location: 'us-central1' },
    ],
    proxyGroups: [
      { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] },
      { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [] },
    ],
    tokens: [{ id: 'narrow', sha256: hashToken(narrowToken), scopes: ['read:elsewhere'] }],
    analysis: {
      providers: [{ name: 'prom', kind: 'prometheus', url: prometheusUrl }],
      templates: [errorRateTemplate(TEMPLATE, 'prom')],
    },
  };
}
