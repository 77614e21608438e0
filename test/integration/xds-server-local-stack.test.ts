/**
 * `crossfade xds-server` in the embedded default, as an operator runs it: the local stack (as
 * `npm start` starts it, persisted in a temp data directory) publishes its store's endpoint there;
 * `crossfade xds-server` runs as a child process with no CROSSFADE_DYNAMODB_ENDPOINT and no AWS
 * credentials, finds the store through that file, and serves a real proxyless gRPC client
 * (@grpc/grpc-js-xds) of an `xds.api: ads` group. A canary run on the stack converges only when
 * the client's ACK, stored by the xds-server, is in the stack's store. Without a store to follow
 * the command exits 1 at once, saying what to set. No timing is asserted: waits poll with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack.js';
import { readStoreEndpoint, STORE_ENDPOINT_FILE } from '../../shared/adapters/local-store-endpoint.js';
import type { Logger } from '../../shared/ports/logger.js';
import { startEchoBackend, trafficFollows, waitFor, xdsEchoClient } from '../support/grpc-echo.js';
import { freePort } from '../support/ports.js';

const SERVICE = 'echo';
const NODE_ID = 'grpc-client-local-1';
const GROUP = 'grpc-ads-use1';
type Version = 'v1' | 'v2';

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => silent };

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `crossfade xds-server` as `npm run crossfade` runs it, with none of this process's CROSSFADE_* or AWS settings (the test setup sets AWS keys) and a HOME without ~/.aws. */
function xdsServer(args: string[], env: Record<string, string>): Child {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CROSSFADE_') && !key.startsWith('AWS_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'xds-server', ...args], {
    // No instance role either: the SDK's chain would otherwise ask the EC2 metadata service.
    env: { ...inherited, HOME: mkdtempSync(join(tmpdir(), 'crossfade-home-')), AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { process: child, output: () => output, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

/** The child's log lines (JSON) whose message contains `text`. */
const logLines = (child: Child, text: string) => child.output().split('\n').filter((line) => line.startsWith('{') && line.includes(text));

const children: ChildProcess[] = [];
const backends: grpc.Server[] = [];
const ports = new Map<Version, number>();
let dataDir: string;
let env: Record<string, string>;
let stack: LocalStack;
let server: Child;
let client: grpc.Client;

/** What `npm start` runs, on this test's data directory and configuration. */
const startStack = () => startLocalStack({ env, dataDir, persist: true, port: 0, logger: silent, waitMs: 20, retryMs: 100 });

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${stack.adminToken}` }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(20_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function registerVersion(version: Version): Promise<void> {
  const answer = await call('PUT', `/v1/services/${SERVICE}/versions/${version}`, {
    targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: SERVICE, kubernetesService: `${SERVICE}-${version}`, port: 50051, endpoints: [{ address: '127.0.0.1', port: ports.get(version)! }] }],
  });
  expect([200, 201]).toContain(answer.status);
}

/** A canary straight to 100%: it converges only once the gRPC client ACKed the new routes through the xds-server, into the stack's store. */
async function shiftAllTraffic(from: Version, to: Version): Promise<void> {
  const created = await call('POST', '/v1/deployments', { service: SERVICE, baseline: { version: from }, canary: { version: to }, steps: [{ setWeight: 100 }] });
  expect(created.status).toBe(202);
  const id = created.body['id'] as string;
  let status = '';
  await waitFor(`deployment ${id} to finish`, async () => {
    status = (await call('GET', `/v1/deployments/${id}`)).body['status'] as string;
    return status !== 'NOT_STARTED' && status !== 'RUNNING';
  }, 60_000);
  expect(status).toBe('SUCCEEDED');
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'crossfade-data-'));
  const configPath = join(dataDir, 'crossfade.json');
  writeFileSync(configPath, JSON.stringify({
    clusters: [{ name: 'eks-use1', cloud: 'aws', region: 'us-east-1' }],
    proxyGroups: [{ name: GROUP, kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: NODE_ID }], xds: { api: 'ads' } }],
    // The echo backends listen on loopback.
    mesh: { allowedEndpointCidrs: ['127.0.0.0/8'] },
  }));
  env = { CROSSFADE_CONFIG: configPath, CROSSFADE_ADMIN_TOKEN: 'cf_xds_local_admin_token_0123456789' };
  for (const version of ['v1', 'v2'] as const) ports.set(version, await startEchoBackend(version, backends));
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  client?.close();
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await stack?.stop();
  for (const backend of backends) backend.forceShutdown();
});

describe('crossfade xds-server on the embedded store of npm start', () => {
  it('the local stack publishes its store endpoint in the data directory, mode 0600', () => {
    const published = readStoreEndpoint(dataDir);

    expect(published).toMatchObject({ table: 'crossfade', endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(statSync(join(dataDir, STORE_ENDPOINT_FILE)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dataDir, STORE_ENDPOINT_FILE), 'utf8'))).toEqual({ endpoint: published!.endpoint, table: 'crossfade' });
  });

  it('without CROSSFADE_DYNAMODB_ENDPOINT or credentials, follows that store: a gRPC client of the ADS group gets the published routes, and its ACK lets a canary converge', async () => {
    await registerVersion('v1');
    await registerVersion('v2');
    const port = await freePort();
    server = xdsServer(['--port', String(port), '--poll-seconds', '0.2'], { ...env, CROSSFADE_DATA_DIR: dataDir });
    await waitFor('the xds-server to listen', () => server.output().includes('listening on') || server.process.exitCode !== null, 30_000);
    expect(server.output()).toContain(`listening on 127.0.0.1:${port}`);
    expect(logLines(server, 'xds server store')[0]).toContain(readStoreEndpoint(dataDir)!.endpoint);

    client = xdsEchoClient(SERVICE, port, NODE_ID);
    await trafficFollows(client, 'v1');

    await shiftAllTraffic('v1', 'v2');
    await trafficFollows(client, 'v2');
    const described = await call('GET', `/v1/services/${SERVICE}`);
    expect((described.body['proxies'] as Record<string, { acknowledgedVersion: string }[]>)[GROUP]![0]!.acknowledgedVersion).toBe((described.body['publishedVersions'] as Record<string, string>)[GROUP]);
    expect(logLines(server, 'cannot be read')).toEqual([]);
  }, 120_000);

  it('a stopped stack is logged once, not at every poll; restarted on another port, it is found again and followed', async () => {
    const before = readStoreEndpoint(dataDir)!.endpoint;
    await stack.stop();
    await waitFor('the xds-server to notice', () => logLines(server, 'cannot be read').length > 0);
    // Ten more polls fail meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(logLines(server, 'cannot be read')).toHaveLength(1);

    stack = await startStack();
    expect(readStoreEndpoint(dataDir)!.endpoint).not.toBe(before);
    await waitFor('the xds-server to follow the restarted store', () => logLines(server, 'answers again').length > 0);
    await shiftAllTraffic('v2', 'v1');
    await trafficFollows(client, 'v1');
    expect(logLines(server, 'cannot be read')).toHaveLength(1);
  }, 120_000);

  it('with no store to follow, exits 1 at once with one line saying what to set', async () => {
    const lonely = xdsServer(['--port', String(await freePort())], { ...env, CROSSFADE_DATA_DIR: mkdtempSync(join(tmpdir(), 'crossfade-empty-')) });

    expect(await lonely.exited).toBe(1);
    const lines = lonely.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^crossfade: no table to follow: set CROSSFADE_DYNAMODB_ENDPOINT, run npm start .*store-endpoint\.json.*AWS credentials/);
    expect(lonely.output()).not.toContain('listening');
  }, 60_000);
});
