/**
 * The three ways the HTTP API is served, behind one `send`: the built Lambda bundles invoked with
 * API Gateway HTTP API (v2) events, the built GCP bundle served by functions-framework on
 * 127.0.0.1, and the local stack's server. All three use one DynamoDB table, one configuration and
 * one (fake) Step Functions state machine, so a test case can run unchanged through each and
 * expect the same answer. With the state machine configured the local stack starts runs there
 * too, as the cloud functions do: no canary runs in these suites, a deployment stays where the
 * API put it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { inject } from 'vitest';
import { createTableHandle, type TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { embeddedDefaults } from '../../shared/domain/config.js';
import { startFakePrometheus } from './fake-clouds/prometheus.js';
import { hashToken } from '../../shared/http/auth.js';
import { startLocalStack, type LocalStack } from '../../local/stack.js';
import { FAKE_STATE_MACHINE_ARN, startFakeStepFunctions, type FakeStepFunctions } from './fake-clouds/step-functions.js';

export interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

export interface HttpTarget {
  name: 'lambda' | 'functions-framework' | 'local';
  send(request: Sent): Promise<Answer>;
  stop(): Promise<void>;
}

export const PUBLIC_BASE_URL = 'https://crossfade.test';

/** Tokens of the test configuration: one per kind of scope. */
export const tokens = {
  admin: 'cf_test_admin_token_0123456789abcdef',
  checkoutDeployer: 'cf_test_checkout_deployer_0123456789',
  paymentsDeployer: 'cf_test_payments_deployer_0123456789',
  reader: 'cf_test_reader_everything_0123456789',
} as const;

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A token entry as crossfade.yaml holds it. */
export interface ConfiguredToken {
  id: string;
  sha256: string;
  scopes: string[];
}

/** What the targets of one test file share: the table, and the fake state machine runs are started on. */
export interface ApiEnvironment {
  table: TableHandle;
  stepFunctions: FakeStepFunctions;
  /** Stops the fake Step Functions (the table stays: DynamoDB Local lives for the whole run). */
  stop(): Promise<void>;
}

/**
 * A fresh table on DynamoDB Local and a fake Step Functions on loopback, with the process
 * environment pointed at both and at the test configuration (plus `extraTokens`, and `extraConfig`'s
 * keys, e.g. iamPrincipals). Once per test file.
 */
export async function apiTableOnDynamoDbLocal(prefix: string, extraTokens: readonly ConfiguredToken[] = [], extraConfig: Record<string, unknown> = {}): Promise<ApiEnvironment> {
  const endpoint = inject('dynamoDbLocalEndpoint');
  const credentials = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fakesecretfakesecret' };
  const table = createTableHandle({ region: 'us-east-1', endpoint, credentials }, `${prefix}-${randomUUID()}`);
  await ensureTable(table);
  const stepFunctions = await configureEnvironment(endpoint, table.tableName, extraTokens, extraConfig);
  return { table, stepFunctions, stop: () => stepFunctions.stop() };
}

/**
 * Writes the configuration every target loads, starts the fake Step Functions and a fake
 * Prometheus (the analysis preflight of a create asks it), and points the process environment at
 * them and the table. The caller stops the fakes (the Step Functions fake's stop stops both).
 */
export async function configureEnvironment(endpoint: string, tableName: string, extraTokens: readonly ConfiguredToken[] = [], extraConfig: Record<string, unknown> = {}): Promise<FakeStepFunctions> {
  const dir = mkdtempSync(join(tmpdir(), 'crossfade-config-'));
  const prometheus = await startFakePrometheus();
  const config = {
    publicBaseUrl: PUBLIC_BASE_URL,
    clusters: [
      { name: 'eks-use1', cloud: 'aws', region: 'us-east-1' },
      { name: 'gke-usc1', cloud: 'gcp', project: 'crossfade-test', location: 'us-central1' },
    ],
    proxyGroups: [
      { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }] },
      { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [{ nodeId: 'envoy-gcp-1' }] },
    ],
    tokens: [
      { id: 'admin', sha256: hashToken(tokens.admin), scopes: ['admin'] },
      { id: 'checkout-pipeline', sha256: hashToken(tokens.checkoutDeployer), scopes: ['deploy:checkout*'] },
      { id: 'payments-pipeline', sha256: hashToken(tokens.paymentsDeployer), scopes: ['deploy:payments'] },
      { id: 'auditor', sha256: hashToken(tokens.reader), scopes: ['read:*'] },
      ...extraTokens,
    ],
    // docs/api.md's example plan names `http-golden-signals`: the embedded template, on a fake Prometheus
    // that accepts every query (the preflight of a create asks it; no run happens here).
    analysis: { ...embeddedDefaults.analysis, providers: embeddedDefaults.analysis.providers.map((p) => ({ ...p, url: prometheus.url })) },
    ...extraConfig,
  };
  const path = join(dir, 'crossfade.json');
  writeFileSync(path, JSON.stringify(config));
  process.env['CROSSFADE_CONFIG'] = path;
  process.env['CROSSFADE_TABLE'] = tableName;
  process.env['CROSSFADE_DYNAMODB_ENDPOINT'] = endpoint;
  process.env['CROSSFADE_LOG_LEVEL'] = 'silent';
  const stepFunctions = await startFakeStepFunctions();
  process.env['CROSSFADE_STATE_MACHINE_ARN'] = FAKE_STATE_MACHINE_ARN;
  process.env['AWS_ENDPOINT_URL_SFN'] = stepFunctions.endpoint;
  const stopStepFunctions = stepFunctions.stop.bind(stepFunctions);
  return Object.assign(stepFunctions, { stop: () => Promise.all([stopStepFunctions(), prometheus.stop()]).then(() => undefined) });
}

/** `PUT /v1/services/{service}/versions/{version}` with one explicit endpoint per version (a deployment's versions must be registered). */
export async function registerVersions(target: HttpTarget, service: string, versions: readonly string[] = ['v41', 'v42']): Promise<void> {
  for (const [index, version] of versions.entries()) {
    const body = registrationBody(service, index);
    const answer = await target.send({ method: 'PUT', path: `/v1/services/${service}/versions/${version}`, headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`registering ${service}@${version} through ${target.name} answered ${answer.status}: ${answer.text}`);
  }
}

/** The registration registerVersions sends for the `index`th version: one explicit endpoint, 10.0.0.<index + 1>. */
export function registrationBody(service: string, index: number): Record<string, unknown> {
  return { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: service, port: 8080, endpoints: [{ address: `10.0.0.${index + 1}`, port: 8080 }] }] };
}

/** A service name no other test uses (`checkout-…`, so the checkout pipeline's `deploy:checkout*` token reaches it). */
export function uniqueService(prefix = 'checkout'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Which function API Gateway routes a path to (serverless.yml). */
export function lambdaFunctionFor(path: string): 'health' | 'deployments' | 'services' | 'reconcile' | 'discovery' {
  if (path === '/healthz') return 'health';
  if (path.startsWith('/v3/')) return 'discovery';
  if (path === '/v1/reconcile' || path.startsWith('/v1/reconcile/')) return 'reconcile';
  const pathname = path.split('?')[0]!;
  return pathname === '/v1/services' || pathname.startsWith('/v1/services/') ? 'services' : 'deployments';
}

export async function lambdaTarget(): Promise<HttpTarget> {
  const handlers: Record<string, LambdaHandler> = {};
  for (const name of ['health', 'deployments', 'services', 'reconcile', 'discovery']) {
    const url = pathToFileURL(resolve('dist', 'aws', name, 'index.mjs')).href;
    handlers[name] = ((await import(url)) as { handler: LambdaHandler }).handler;
  }
  return {
    name: 'lambda',
    async send(request) {
      const result = await handlers[lambdaFunctionFor(request.path)]!(apiGatewayEvent(request), { awsRequestId: randomUUID() } as Context);
      const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
      return answer(result.statusCode ?? 200, headers, result.body ?? '');
    },
    stop: async () => {},
  };
}

function apiGatewayEvent(request: Sent): APIGatewayProxyEventV2 {
  const url = new URL(request.path, 'https://api.example.com');
  const body = request.body;
  const binary = Buffer.isBuffer(body);
  return {
    version: '2.0',
    routeKey: `${request.method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: request.method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: `${request.method} ${url.pathname}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: body === undefined ? undefined : binary ? body.toString('base64') : body,
    isBase64Encoded: binary,
  };
}

export async function functionsFrameworkTarget(): Promise<HttpTarget> {
  await import(pathToFileURL(resolve('dist', 'gcp', 'index.mjs')).href);
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  const server = getTestServer('api') as Server;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { name: 'functions-framework', send: (request) => overHttp(base, request), stop: () => closeServer(server) };
}

export async function localTarget(): Promise<HttpTarget & { stack: LocalStack }> {
  const stack = await startLocalStack({ env: process.env, dataDir: mkdtempSync(join(tmpdir(), 'crossfade-local-')), port: 0 });
  return { name: 'local', stack, send: (request) => overHttp(stack.url, request), stop: () => stack.stop() };
}

export const targetFactories = [
  ['lambda', lambdaTarget],
  ['functions-framework', functionsFrameworkTarget],
  ['local', localTarget],
] as const;

async function overHttp(base: string, request: Sent): Promise<Answer> {
  const response = await fetch(base + request.path, { method: request.method, headers: request.headers, body: request.body });
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  return answer(response.status, headers, await response.text());
}

function answer(status: number, headers: Record<string, string>, text: string): Answer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status, headers, body, text };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}
