/**
 * Requests built to hurt, through every way the API is served (the Lambda bundles, the GCP bundle,
 * the local server) on DynamoDB Local: deep nesting, prototype keys, path parameters too long to be
 * a key, another token's idempotency keys, and inline metrics from a token that may not run
 * arbitrary queries. Each bad request is a 4xx naming the field and the rule, and writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanTable } from '../support/store-backends.js';
import { apiTableOnDynamoDbLocal, bearer, registerVersions, targetFactories, tokens, uniqueService, type Answer, type ApiEnvironment, type HttpTarget, type Sent } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';

let api: ApiEnvironment;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('hostile-requests');
});

afterAll(async () => {
  await api.stop();
});

const admin = bearer(tokens.admin);
const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

function request(method: string, path: string, body?: string, headers: Record<string, string> = admin): Sent {
  return { method, path, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) };
}

describe.each(targetFactories)('hostile requests through %s', (_name, factory) => {
  let target: HttpTarget;

  beforeAll(async () => {
    target = await factory();
  });

  afterAll(async () => {
    await target.stop();
  });

  /** Sends the request and checks that the table is exactly as it was before. */
  async function sendWritingNothing(sent: Sent): Promise<Answer> {
    const before = await scanTable(api.table);
    const answer = await target.send(sent);
    expect(await scanTable(api.table)).toEqual(before);
    return answer;
  }

  describe('a body nested 100,000 deep is a 400 naming where, not a stack overflow', () => {
    it.each([
      ['a deployment', '/v1/deployments', 'steps'],
      ['a cancel', '/v1/deployments/dep_00000000000000000000000000/cancel', 'reason'],
      ['a reconciliation', '/v1/reconcile', 'service'],
    ])('%s', async (_what, path, field) => {
      const answer = await sendWritingNothing(request('POST', path, `{"${field}":${deep(100_000)}}`));
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('nests deeper than 32 levels'), field: expect.stringMatching(new RegExp(`^${field}(\\[0\\])+$`)), rule: 'max-depth' } });
    });
  });

  describe('a key that reaches Object.prototype is a 400 naming its path', () => {
    it.each([
      ['__proto__ in a step', JSON.stringify(deploymentBody()).replace('{"setWeight":5,', '{"setWeight":10,"__proto__":{"pause":{}},'), 'steps[0].__proto__'],
      ['__proto__ at the top', '{"__proto__":{"admin":true},"service":"checkout"}', '__proto__'],
      ['constructor in a version', JSON.stringify(deploymentBody({ canary: { version: 'v42', constructor: { prototype: { polluted: true } } } })), 'canary.constructor'],
    ])('%s', async (_what, body, field) => {
      const answer = await sendWritingNothing(request('POST', '/v1/deployments', body));
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.stringContaining(field), field, rule: 'prototype-key' } });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });
  });

  it('versions named like Object.prototype members enter the mesh at 0%, as any other version', async () => {
    const service = uniqueService();
    const versions = ['v41', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];
    await registerVersions(target, service, versions);
    const described = await target.send(request('GET', `/v1/services/${service}`));
    expect(described.status).toBe(200);
    const weights = (described.body as { weights: Record<string, Record<string, number>> }).weights;
    expect(Object.keys(weights)).toEqual(expect.arrayContaining(['envoy-aws-use1', 'envoy-gcp-usc1']));
    for (const split of Object.values(weights)) expect(split).toEqual({ v41: 100, constructor: 0, toString: 0, valueOf: 0, hasOwnProperty: 0 });
  });

  describe('a path parameter that cannot be a key is a 400 naming the parameter', () => {
    const long = 'a'.repeat(5000);
    it.each([
      ['GET', `/v1/deployments/${long}`, 'id', 'deployment-id'],
      ['GET', `/v1/deployments/${long}/events`, 'id', 'deployment-id'],
      ['POST', `/v1/deployments/${long}/cancel`, 'id', 'deployment-id'],
      ['GET', '/v1/deployments/dep%00x', 'id', 'deployment-id'],
      ['PUT', `/v1/services/${long}/versions/v1`, 'service', 'service-name'],
      ['DELETE', `/v1/services/checkout/versions/${long}`, 'version', 'version-name'],
      ['GET', `/v1/services/${long}`, 'service', 'service-name'],
    ])('%s %#', async (method, path, field, rule) => {
      const answer = await sendWritingNothing(request(method, path, method === 'GET' || method === 'DELETE' ? undefined : '{}'));
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(new RegExp(`^${field} must be `)), field, rule } });
    });

    it('a well-formed id of no deployment stays a 404', async () => {
      const answer = await target.send(request('GET', '/v1/deployments/dep_missing'));
      expect(answer.status).toBe(404);
    });

    it('an idempotency key of 5,000 characters', async () => {
      const answer = await sendWritingNothing(request('POST', '/v1/deployments', JSON.stringify(deploymentBody()), { ...admin, 'x-idempotency-key': long }));
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { field: 'X-Idempotency-Key', rule: 'idempotency-key' } });
    });
  });

  it("idempotency keys belong to a token: another token's key is neither replayed nor refused", async () => {
    const [first, second] = [uniqueService(), uniqueService()];
    await registerVersions(target, first);
    await registerVersions(target, second);
    const key = `exec-${randomUUID()}-3`;
    const create = (service: string, token: string) => request('POST', '/v1/deployments', JSON.stringify(deploymentBody({ service, spinnaker: undefined })), { ...bearer(token), 'x-idempotency-key': key });

    const byAdmin = await target.send(create(first, tokens.admin));
    expect(byAdmin.status).toBe(202);
    // The same key and body from another token is a creation of its own: the service is locked by the first.
    const sameBody = await sendWritingNothing(create(first, tokens.checkoutDeployer));
    expect(sameBody.status).toBe(409);
    expect(sameBody.body).toMatchObject({ error: { code: 'CONFLICT', holder: (byAdmin.body as { id: string }).id } });
    // Another body under the same key: not "already used", a deployment of its own.
    const byPipeline = await target.send(create(second, tokens.checkoutDeployer));
    expect(byPipeline.status).toBe(202);
    expect((byPipeline.body as { id: string }).id).not.toBe((byAdmin.body as { id: string }).id);
    // Each token replays its own answer.
    expect((await sendWritingNothing(create(first, tokens.admin))).body).toEqual(byAdmin.body);
    expect((await sendWritingNothing(create(second, tokens.checkoutDeployer))).body).toEqual(byPipeline.body);
  });

  describe('inline metrics need an admin token', () => {
    const metrics = [{ name: 'errors', provider: 'prometheus', query: 'sum(rate(anything_at_all[1m]))' }];

    it.each([
      ['in a step', { steps: [{ setWeight: 5 }, { analysis: { metrics, interval: '1m', count: 1 } }, { setWeight: 100 }] }, 'steps[1].analysis.metrics'],
      ['beside a strategy', { steps: undefined, strategy: 'linear-50', analysis: { metrics, interval: '1m', count: 1 } }, 'analysis.metrics'],
    ])('%s: 403 for a deploy token, naming the field and the rule', async (_where, overrides, field) => {
      const body = deploymentBody({ service: uniqueService(), spinnaker: undefined, ...overrides });
      const answer = await sendWritingNothing(request('POST', '/v1/deployments', JSON.stringify(body), bearer(tokens.checkoutDeployer)));
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining(`may not give ${field}`), rule: 'inline-metrics' } });
    });

    it('an admin token may; a deploy token may name a configured template', async () => {
      const steps = [{ setWeight: 5 }, { analysis: { metrics, interval: '1m', count: 1 } }, { setWeight: 100 }];
      const inline = uniqueService();
      await registerVersions(target, inline);
      expect((await target.send(request('POST', '/v1/deployments', JSON.stringify(deploymentBody({ service: inline, spinnaker: undefined, steps }))))).status).toBe(202);
      const templated = uniqueService();
      await registerVersions(target, templated);
      const answer = await target.send(request('POST', '/v1/deployments', JSON.stringify(deploymentBody({ service: templated, spinnaker: undefined })), bearer(tokens.checkoutDeployer)));
      expect(answer.status).toBe(202);
    });
  });
});
