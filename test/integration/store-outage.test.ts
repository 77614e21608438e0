/**
 * The store goes away under a running API, on every way the API is served: each answer is a 503
 * naming the DynamoDB table and what was being done, never the address it was reached at or the
 * socket error (those are for the logs). The store is DynamoDB Local behind a proxy on loopback,
 * which the test stops once every target is up.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDynamoDbCounter, type DynamoDbCounter } from '../support/dynamodb-counter.js';
import { apiTableOnDynamoDbLocal, bearer, targetFactories, tokens, type ApiEnvironment, type HttpTarget, type Sent } from '../support/http-targets.js';

let api: ApiEnvironment;
let proxy: DynamoDbCounter;
const targets = new Map<string, HttpTarget>();

const readDeployment: Sent = { method: 'GET', path: '/v1/deployments/dep_00000000000000000000000000', headers: bearer(tokens.admin) };
const registerVersion: Sent = {
  method: 'PUT',
  path: '/v1/services/checkout/versions/v42',
  headers: { ...bearer(tokens.admin), 'content-type': 'application/json' },
  body: JSON.stringify({ targets: [{ cloud: 'aws', cluster: 'eks-use1', namespace: 'checkout', kubernetesService: 'checkout', port: 8080, endpoints: [{ address: '10.0.0.1', port: 8080 }] }] }),
};

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('outage');
  proxy = await startDynamoDbCounter(inject('dynamoDbLocalEndpoint'));
  process.env['CROSSFADE_DYNAMODB_ENDPOINT'] = proxy.endpoint;
  for (const [name, factory] of targetFactories) {
    const target = await factory();
    targets.set(name, target);
    // Warm: the functions build their clients on the first request, as after a cold start.
    expect((await target.send(readDeployment)).status).toBe(404);
  }
  await proxy.stop();
});

afterAll(async () => {
  for (const target of targets.values()) await target.stop();
  await api.stop();
});

describe.each(targetFactories.map(([name]) => name))('the store unreachable, through %s', (name) => {
  it.each([
    ['a read', readDeployment],
    ['a registration', registerVersion],
  ])('%s: 503 naming the table, not its address', async (_what, request) => {
    const answer = await targets.get(name)!.send(request);
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toMatch(/^\d+$/);
    const message = (answer.body as { error: { code: string; message: string } }).error.message;
    expect(answer.body).toEqual({ error: { code: 'UNAVAILABLE', message: expect.stringMatching(new RegExp(`^DynamoDB table ${api.table.tableName}: .+ failed$`)) } });
    expect(message).not.toContain('127.0.0.1');
    expect(message).not.toContain(new URL(proxy.endpoint).port);
    expect(message).not.toMatch(/ECONNREFUSED|ECONNRESET/);
  });
});
