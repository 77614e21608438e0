/**
 * Least privilege that holds: every DynamoDB action a Lambda really calls is one its role grants
 * (test/support/function-roles.ts, which serverless-package.test.ts checks the packaged template
 * against), and every route the code serves is routed to its function by serverless.yml. DynamoDB
 * Local enforces no IAM, so a missing grant would only show on AWS: here the built bundles (the
 * lambda target of test/support/http-targets.ts) reach DynamoDB Local through a loopback relay that
 * records each request's X-Amz-Target, attributed to the function the request was sent to (one
 * request at a time). The config has two Envoy groups with node ids and a sidecar group, so
 * registrations, declarations and reconciliation publish.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createTableHandle } from '../../shared/adapters/dynamodb/client.js';
import { ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { hashToken } from '../../shared/http/auth.js';
import { routes } from '../../shared/http/routes.js';
import { FUNCTIONS, type FunctionName } from '../support/function-roles.js';
import { bearer, configureEnvironment, lambdaFunctionFor, lambdaTarget, tokens, type HttpTarget, type Sent } from '../support/http-targets.js';
import type { FakeStepFunctions } from '../support/fake-clouds/step-functions.js';

const XDS_TOKEN = 'cf_test_xds_envoy_aws_0123456789abcdef';
const SERVICE = 'checkout-iam';
const DEPENDENCY = 'payments-iam';

/** Forwards to DynamoDB Local, recording `dynamodb:<Operation>` under the function `current` names. */
interface RecordingRelay {
  url: string;
  current: FunctionName | undefined;
  called: Map<FunctionName, Set<string>>;
  stop(): Promise<void>;
}

async function startRecordingRelay(target: string): Promise<RecordingRelay> {
  const upstream = new URL(target);
  const relay: RecordingRelay = { url: '', current: undefined, called: new Map(), stop: async () => {} };
  const server: Server = createServer((incoming, outgoing) => {
    const operation = String(incoming.headers['x-amz-target'] ?? '').split('.')[1];
    if (operation && relay.current) relay.called.set(relay.current, (relay.called.get(relay.current) ?? new Set()).add(`dynamodb:${operation}`));
    const onward = forward({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(outgoing);
    });
    onward.on('error', () => outgoing.destroy());
    incoming.pipe(onward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  relay.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return relay;
}

let relay: RecordingRelay;
let stepFunctions: FakeStepFunctions;
let target: HttpTarget;

beforeAll(async () => {
  const endpoint = inject('dynamoDbLocalEndpoint');
  const table = createTableHandle({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fakesecretfakesecret' } }, `iam-${randomUUID()}`);
  await ensureTable(table);
  relay = await startRecordingRelay(endpoint);
  stepFunctions = await configureEnvironment(relay.url, table.tableName, [{ id: 'envoy-aws', sha256: hashToken(XDS_TOKEN), scopes: ['xds:envoy-aws-*'] }], {
    proxyGroups: [
      { name: 'envoy-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-aws-1' }] },
      { name: 'envoy-gcp-usc1', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [{ nodeId: 'envoy-gcp-1' }] },
      { name: 'checkout-iam-sidecars', kind: 'envoy', cloud: 'aws', region: 'us-east-1', sidecarOf: SERVICE, proxies: [{ nodeId: 'envoy-aws-2' }] },
    ],
  });
  target = await lambdaTarget();
});

afterAll(async () => {
  await stepFunctions?.stop();
  await relay?.stop();
});

/** One request, its DynamoDB calls attributed to the function API Gateway routes it to; must answer `status`. */
async function send(request: Sent, status: number): Promise<unknown> {
  relay.current = lambdaFunctionFor(request.path);
  try {
    const answer = await target.send(request);
    expect(answer.status, `${request.method} ${request.path}: ${answer.text}`).toBe(status);
    return answer.body;
  } finally {
    relay.current = undefined;
  }
}

const json = (method: string, path: string, body: unknown, token: string = tokens.admin): Sent => ({ method, path, headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the Lambdas call only the DynamoDB actions their roles grant', () => {
  it('registrations, a declaration, a create, reconciliation and discovery, each within its role', async () => {
    for (const service of [SERVICE, DEPENDENCY]) {
      for (const [index, version] of ['v1', 'v2'].entries()) {
        await send(json('PUT', `/v1/services/${service}/versions/${version}`, { targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: service, kubernetesService: service, port: 8080, endpoints: [{ address: `10.7.${index}.${service.length}`, port: 8080 }] }] }), 201);
      }
    }
    await send(json('PUT', `/v1/services/${SERVICE}/dependencies`, { dependencies: [DEPENDENCY] }), 201);
    await send({ method: 'GET', path: `/v1/services/${SERVICE}`, headers: bearer(tokens.admin) }, 200);
    await send({ method: 'GET', path: `/v1/services/${SERVICE}/dependencies`, headers: bearer(tokens.admin) }, 200);
    const created = (await send(json('POST', '/v1/deployments', { service: SERVICE, baseline: { version: 'v1' }, canary: { version: 'v2' }, steps: [{ setWeight: 10 }, { setWeight: 100 }] }), 202)) as { id: string };
    await send({ method: 'GET', path: `/v1/deployments/${created.id}`, headers: bearer(tokens.admin) }, 200);
    await send(json('POST', '/v1/policy/evaluate', { service: SERVICE, canary: { version: 'v2' }, steps: [{ setWeight: 100 }] }), 200);
    await send(json('POST', '/v1/reconcile', { service: DEPENDENCY }), 200);
    const request = { node: { id: 'envoy-aws-1', cluster: 'envoy-aws-use1', metadata: { token: XDS_TOKEN } }, type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', version_info: '', resource_names: [] };
    await send({ method: 'POST', path: '/v3/discovery:clusters', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }, 200);

    const exercised: FunctionName[] = ['services', 'deployments', 'reconcile', 'discovery'];
    for (const fn of exercised) {
      const called = [...(relay.called.get(fn) ?? [])].sort();
      // Nothing recorded would prove nothing: the relay must have seen this function's calls.
      expect(called.length, `${fn} made no DynamoDB call through the relay`).toBeGreaterThan(0);
      expect(called.filter((action) => !(FUNCTIONS[fn].dynamodbActions as readonly string[]).includes(action)), `${fn} called ${called.join(', ')}`).toEqual([]);
    }
  });

  it('every route the code serves is routed by serverless.yml to the function that serves it', () => {
    const routed = (fn: FunctionName, method: string, path: string): boolean =>
      FUNCTIONS[fn].routes.some((key: string) => {
        const [routeMethod, routePath] = key.split(' ') as [string, string];
        return routeMethod === method && (routePath === path || (routePath.endsWith('/{proxy+}') && path.startsWith(routePath.slice(0, -'{proxy+}'.length))));
      });
    expect(routes.filter((r) => !routed(r.functionName, r.method, r.path)).map((r) => `${r.method} ${r.path} → ${r.functionName}`)).toEqual([]);
  });
});
