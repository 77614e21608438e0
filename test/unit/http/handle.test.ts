/** The HTTP core every entry point calls (shared/http/handle.ts), on in-memory fakes. */
import { describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../../shared/http/handle.js';
import { createApiHandler, FunctionName, type Route } from '../../../shared/http/routes.js';
import type { HttpRequest, HttpResponse } from '../../../shared/http/types.js';
import { fakeHttpDeps, TEST_TOKENS, writeAttempts } from '../../support/fakes.js';

function request(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): HttpRequest {
  return {
    method,
    path,
    query: {},
    headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
    body: options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body)),
    origin: 'http://127.0.0.1:8080',
    requestId: 'req-1',
  };
}

const json = (response: HttpResponse): unknown => JSON.parse(response.body);

const createBody = {
  service: 'checkout',
  canary: { version: 'v42' },
  targets: [{ cloud: 'gcp', cluster: 'gke-usc1' }],
  steps: [{ setWeight: 5 }, { pause: {} }, { setWeight: 100 }],
};

describe('createHttpHandler', () => {
  it('an unknown path is 404 with a JSON error document', async () => {
    const handle = createApiHandler(fakeHttpDeps());
    const response = await handle(request('GET', '/v2/nothing', { token: TEST_TOKENS.admin }));
    expect(response.statusCode).toBe(404);
    expect(json(response)).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringContaining('/v2/nothing') } });
  });

  it('a known path with another method is 405 with an Allow header listing the methods it has', async () => {
    const handle = createApiHandler(fakeHttpDeps());

    const response = await handle(request('DELETE', '/v1/deployments', { token: TEST_TOKENS.admin }));

    expect(response.statusCode).toBe(405);
    expect(response.headers['allow']?.split(', ').sort()).toEqual(['GET', 'POST']);
    expect(json(response)).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    const health = await handle(request('POST', '/healthz'));
    expect(health.statusCode).toBe(405);
    expect(health.headers['allow']).toBe('GET');
  });

  it('GET /healthz needs no token and reports the version', async () => {
    const response = await createApiHandler(fakeHttpDeps({ version: '9.8.7' }))(request('GET', '/healthz'));
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ status: 'ok', version: '9.8.7' });
  });

  it('a route that needs a token answers 401 without one, and writes nothing', async () => {
    const deps = fakeHttpDeps();
    const response = await createApiHandler(deps)(request('POST', '/v1/deployments', { body: createBody }));
    expect(response.statusCode).toBe(401);
    expect(json(response)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    expect(writeAttempts(deps)).toBe(0);
  });

  it('a token outside its scope answers 403 naming the rule, and writes nothing', async () => {
    const deps = fakeHttpDeps();
    const response = await createApiHandler(deps)(request('POST', '/v1/deployments', { token: TEST_TOKENS.reader, body: createBody }));
    expect(response.statusCode).toBe(403);
    expect(json(response)).toMatchObject({ error: { code: 'FORBIDDEN', rule: 'scope' } });
    expect(writeAttempts(deps)).toBe(0);
  });

  it('POST /v1/deployments answers 202 with the status document and an absolute Location', async () => {
    const deps = fakeHttpDeps({ publicBaseUrl: 'https://crossfade.example.com' });

    const response = await createApiHandler(deps)(request('POST', '/v1/deployments', { token: TEST_TOKENS.checkoutDeployer, body: createBody }));

    expect(response.statusCode).toBe(202);
    const id = deps.ids.issued[0]!;
    expect(response.headers['location']).toBe(`https://crossfade.example.com/v1/deployments/${id}`);
    expect(json(response)).toMatchObject({ id, service: 'checkout', status: 'NOT_STARTED', phase: 'PENDING', step: { index: 0, count: 3 } });
    expect(deps.deployments.all().map((d) => d.id)).toEqual([id]);
  });

  it('without a publicBaseUrl, absolute URLs use the origin the caller used', async () => {
    const deps = fakeHttpDeps({ publicBaseUrl: undefined });
    const response = await createApiHandler(deps)(request('POST', '/v1/deployments', { token: TEST_TOKENS.admin, body: createBody }));
    expect(response.headers['location']).toBe(`http://127.0.0.1:8080/v1/deployments/${deps.ids.issued[0]}`);
  });

  it('every response, success or error, is JSON and not cacheable', async () => {
    const deps = fakeHttpDeps();
    deps.deployments.failNext('get', new Error('boom'));
    const handle = createApiHandler(deps);
    const responses = await Promise.all([
      handle(request('GET', '/healthz')),
      handle(request('POST', '/v1/deployments', { token: TEST_TOKENS.admin, body: createBody })),
      handle(request('GET', '/v1/deployments', { token: TEST_TOKENS.reader })),
      handle(request('GET', '/v1/deployments/dep_missing', { token: TEST_TOKENS.admin })),
      handle(request('GET', '/nowhere')),
      handle(request('PATCH', '/healthz')),
      handle(request('GET', '/v1/deployments')),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 202, 200, 500, 404, 405, 401]);
    for (const response of responses) {
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(() => JSON.parse(response.body)).not.toThrow();
    }
  });

  it('a route throwing a plain Error answers 500 without its message, and logs it as an error', async () => {
    const deps = fakeHttpDeps();
    deps.deployments.failNext('get', new Error('socket hang up at 10.0.0.7 with key hunter2'));

    const response = await createApiHandler(deps)(request('GET', '/v1/deployments/dep_00000000000000000000000001', { token: TEST_TOKENS.admin }));

    expect(response.statusCode).toBe(500);
    expect(json(response)).toEqual({ error: { code: 'INTERNAL', message: expect.any(String) } });
    expect(response.body).not.toContain('hunter2');
    const errors = deps.logger.at('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.fields).toMatchObject({ requestId: 'req-1', method: 'GET', path: '/v1/deployments/dep_00000000000000000000000001' });
    expect((errors[0]!.fields['error'] as Error).message).toContain('hunter2');
  });

  it('a 4xx is not logged as an error; every request is logged once with its status', async () => {
    const deps = fakeHttpDeps();
    await createApiHandler(deps)(request('GET', '/v1/deployments/dep_missing', { token: TEST_TOKENS.admin }));
    expect(deps.logger.at('error')).toEqual([]);
    expect(deps.logger.lines.filter((line) => line.message === 'request').map((line) => line.fields['status'])).toEqual([404]);
  });

  it('never logs a presented token, valid or not', async () => {
    const deps = fakeHttpDeps();
    const handle = createApiHandler(deps);
    const wrong = 'cf_a_wrong_token_that_must_not_leak_0000';
    await handle(request('POST', '/v1/deployments', { token: TEST_TOKENS.admin, body: createBody }));
    await handle(request('GET', '/v1/deployments/dep_missing', { token: wrong }));
    await handle(request('GET', '/v1/deployments', { token: TEST_TOKENS.admin, headers: { 'x-idempotency-key': 'k' } }));
    const logged = JSON.stringify(deps.logger.lines);
    expect(deps.logger.lines.length).toBeGreaterThanOrEqual(3);
    expect(logged).not.toContain(TEST_TOKENS.admin);
    expect(logged).not.toContain(wrong);
  });

  it('`only` serves just the named functions: a health-only handler has no /v1/deployments', async () => {
    const handle = createApiHandler(fakeHttpDeps(), ['health']);
    expect((await handle(request('GET', '/healthz'))).statusCode).toBe(200);
    const response = await handle(request('GET', '/v1/deployments', { token: TEST_TOKENS.admin }));
    expect(response.statusCode).toBe(404);
    expect((await handle(request('POST', '/v1/deployments', { token: TEST_TOKENS.admin, body: createBody }))).statusCode).toBe(404);
  });

  it('a deployments-only handler has no /healthz', async () => {
    const handle = createApiHandler(fakeHttpDeps(), ['deployments']);
    expect((await handle(request('GET', '/healthz'))).statusCode).toBe(404);
    expect((await handle(request('GET', '/v1/deployments', { token: TEST_TOKENS.admin }))).statusCode).toBe(200);
  });
});

describe('admit: what the request line and headers decide', () => {
  const head = (method: string, path: string, token?: string) => {
    const { body: _body, ...rest } = request(method, path, token === undefined ? {} : { token });
    return rest;
  };

  it('a route that needs a token, without a valid one: 401, logged once', async () => {
    const deps = fakeHttpDeps();
    const answer = await createApiHandler(deps).admit(head('POST', '/v1/deployments', 'cf_a_wrong_token_that_nobody_has_0000'));
    expect(answer?.statusCode).toBe(401);
    expect(deps.logger.lines.filter((line) => line.message === 'request').map((line) => line.fields['status'])).toEqual([401]);
  });

  it('no route, a method not allowed, a path parameter that cannot be a key: answered', async () => {
    const admit = createApiHandler(fakeHttpDeps()).admit;
    expect((await admit(head('POST', '/v2/nothing')))?.statusCode).toBe(404);
    expect((await admit(head('PATCH', '/healthz')))?.statusCode).toBe(405);
    const long = await admit(head('GET', `/v1/deployments/${'a'.repeat(65)}`, TEST_TOKENS.admin));
    expect(long?.statusCode).toBe(400);
    expect(json(long!)).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'id must be 1-64 letters, digits, "_" or "-"', field: 'id', rule: 'deployment-id' } });
  });

  it('a valid token, or a public route: undefined, the body is needed', async () => {
    const admit = createApiHandler(fakeHttpDeps()).admit;
    expect(await admit(head('POST', '/v1/deployments', TEST_TOKENS.admin))).toBeUndefined();
    expect(await admit(head('POST', '/v3/discovery:clusters'))).toBeUndefined();
  });

  it('a route whose path parameter has no rule is refused when the handler is built', () => {
    const route: Route = { method: 'GET', path: '/v1/things/{thing}', functionName: FunctionName.Health, handle: async () => ({ statusCode: 200, body: {} }) };
    expect(() => createHttpHandler(fakeHttpDeps(), [route])).toThrow(/path parameter \{thing\} has no rule/);
  });
});
