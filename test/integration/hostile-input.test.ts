/**
 * Property: whatever a caller sends — malformed or hostile bodies, headers, tokens — the API answers
 * with a 4xx error document, never a 5xx, and writes nothing. 1,000 generated requests through the
 * local server on DynamoDB Local; then deep nesting and prototype keys through every route of the
 * route table, on every way the API is served.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { routes, type Route } from '../../shared/http/routes.js';
import { MAX_JSON_DEPTH } from '../../shared/http/types.js';
import { apiTableOnDynamoDbLocal, bearer, localTarget, targetFactories, tokens, type ApiEnvironment, type HttpTarget } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';
import { scanTable } from '../support/store-backends.js';

let api: ApiEnvironment;
let table: TableHandle;
let target: HttpTarget;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('hostile');
  table = api.table;
  target = await localTarget();
});

afterAll(async () => {
  await target.stop();
  await api.stop();
});

/** A valid body broken in exactly one place, so every generated body is certainly invalid. */
const brokenBody = fc
  .record({
    field: fc.constantFrom('service', 'canary', 'baseline', 'targets', 'steps', 'spinnaker', 'reason', '__proto__', 'constructor', 'unknownField'),
    value: fc.oneof(
      fc.jsonValue(),
      fc.constantFrom(null, -1, 1e308, '', '../../etc/passwd', '<script>', 'a'.repeat(70), '\u0000', '💥', { $ne: null }, [[[[[]]]]]),
    ),
  })
  .filter(({ field, value }) => !(field === 'reason' && typeof value === 'string' && value.length >= 1 && value.length <= 500))
  .map(({ field, value }) => {
    const body = deploymentBody({ spinnaker: undefined });
    if (field === 'baseline' || field === 'spinnaker' || field === 'targets') {
      // These are optional, so "absent" is valid: always give them a value that is not.
      return JSON.stringify({ ...body, [field]: value === null || typeof value !== 'object' || Array.isArray(value) ? value ?? 0 : { ...value, extra: 1 } });
    }
    // A computed `__proto__` key is an own property, so it reaches the wire.
    return JSON.stringify({ ...body, [field]: value });
  });

const anyBody = fc.oneof(
  { weight: 3, arbitrary: brokenBody },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constantFrom('{"service":', '{}', '', 'null', '[]', '{"__proto__":{"admin":true}}', '{"service":"checkout"'.padEnd(2000, ' ')) },
);

const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constant(`Bearer ${tokens.admin}`) },
  { weight: 1, arbitrary: fc.constant(`Bearer ${tokens.paymentsDeployer}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('', 'Basic YWRtaW46YWRtaW4=', 'Bearer', `bearer ${tokens.admin}`, `Bearer ${tokens.admin} extra`) },
);

const headerValue = fc.string({ maxLength: 120 }).filter((s) => /^[\x20-\x7e]*$/.test(s));

const hostileRequest = fc.record({
  body: anyBody,
  authorization,
  contentType: fc.option(fc.constantFrom('application/json', 'text/plain;charset=ISO-8859-1', 'application/x-www-form-urlencoded', 'application/octet-stream'), { nil: undefined }),
  idempotencyKey: fc.option(headerValue, { nil: undefined }),
});

describe('hostile input', () => {
  it('1,000 generated requests: never a 5xx, always a JSON error, nothing written', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostileRequest, async ({ body, authorization, contentType, idempotencyKey }) => {
        const headers: Record<string, string> = {};
        if (authorization !== '') headers['authorization'] = authorization;
        if (contentType) headers['content-type'] = contentType;
        if (idempotencyKey !== undefined) headers['x-idempotency-key'] = idempotencyKey;
        const answer = await target.send({ method: 'POST', path: '/v1/deployments', headers, body });
        seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
        expect([400, 401, 403, 422]).toContain(answer.status);
        expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(answer.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      }),
      { numRuns: 1000 },
    );
    expect(await scanTable(table)).toEqual([]);
    // The generators reach past authentication into validation, not just the 401 wall.
    expect(seen.get(400) ?? 0).toBeGreaterThan(300);
  });

  it('hostile headers on reads: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), authorization, async (id, auth) => {
        const path = `/v1/deployments/${encodeURIComponent(id) || 'x'}`;
        const answer = await target.send({ method: 'GET', path, headers: auth ? { authorization: auth } : {} });
        expect(answer.status).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  });
});

/** A value for each path parameter, of the right shape: the request reaches the route. */
const PARAMETER_VALUES: Record<string, string> = { id: 'dep_00000000000000000000000000', service: 'checkout', version: 'v42' };

function concretePath(route: Route): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => PARAMETER_VALUES[name]!);
}

const PLACEHOLDER = '"__hostile__"';

/** Per route that reads a body: a body it would accept, with the fields the hostile part may replace. */
function bodyOf(route: Route): { base: Record<string, unknown>; fields: string[] } {
  if (route.path === '/v1/deployments') return { base: deploymentBody(), fields: ['steps', 'canary', 'targets', 'spinnaker', 'reason'] };
  if (route.path.startsWith('/v1/deployments/')) return { base: { reason: 'because' }, fields: ['reason', ...(route.path.endsWith('/promote') ? ['full'] : [])] };
  if (route.path.startsWith('/v1/services/')) return { base: { targets: [] }, fields: ['targets'] };
  if (route.path === '/v1/reconcile') return { base: { service: 'checkout' }, fields: ['service'] };
  return { base: { node: { id: 'envoy-aws-1', cluster: 'envoy-aws-use1', metadata: { token: 'x'.repeat(20) } }, version_info: '' }, fields: ['node', 'version_info', 'resource_names'] };
}

const bodyRoutes = routes.filter((route) => route.method === 'POST' || route.method === 'PUT');
const readRoutes = routes.filter((route) => route.method === 'GET');

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype);

/** JSON text nesting `levels` deep, as arrays or as objects. */
const deepNesting = fc
  .record({ levels: fc.integer({ min: MAX_JSON_DEPTH, max: 20_000 }), kind: fc.constantFrom('array', 'object') })
  .map(({ levels, kind }) => (kind === 'array' ? `${'['.repeat(levels)}${']'.repeat(levels)}` : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`));

/** An object holding a key of Object.prototype, a few levels into the field. */
const prototypeKey = fc
  .record({ key: fc.constantFrom(...PROTOTYPE_KEYS), value: fc.jsonValue({ maxDepth: 2 }), wrapping: fc.array(fc.constantFrom('array', 'object'), { maxLength: 3 }) })
  .map(({ key, value, wrapping }) => wrapping.reduce((inner, kind) => (kind === 'array' ? `[${inner}]` : `{"w":${inner}}`), `{${JSON.stringify(key)}:${JSON.stringify(value)}}`));

const hostileBodyRequest = fc.constantFrom(...bodyRoutes).chain((route) => {
  const { base, fields } = bodyOf(route);
  return fc.record({ route: fc.constant(route), field: fc.constantFrom(...fields), fragment: fc.oneof(deepNesting, prototypeKey) }).map(({ route, field, fragment }) => ({
    route,
    field,
    // A function, not a string: `$'` and `$&` in a generated fragment are not replacement patterns.
    body: JSON.stringify({ ...base, [field]: '__hostile__' }).replace(PLACEHOLDER, () => fragment),
  }));
});

const hostileQuery = fc.array(fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS, 'limit', 'cursor', 'service'), fc.string({ maxLength: 20 })), { maxLength: 4 }).map((pairs) => new URLSearchParams(pairs).toString());

describe.each(targetFactories)('deep nesting and prototype keys, through every route, on %s', (_name, factory) => {
  let through: HttpTarget;

  beforeAll(async () => {
    through = await factory();
  });

  afterAll(async () => {
    await through.stop();
  });

  it(`every route that reads a body (${bodyRoutes.length}): 400 naming the field and the rule, nothing written`, async () => {
    const before = await scanTable(table);
    await fc.assert(
      fc.asyncProperty(hostileBodyRequest, async ({ route, field, body }) => {
        const answer = await through.send({ method: route.method, path: concretePath(route), headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body });
        expect(answer.status).toBe(400);
        expect(answer.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.any(String), field: expect.stringMatching(new RegExp(`^${field}\\b`)), rule: expect.stringMatching(/^(max-depth|prototype-key)$/) } });
      }),
      { numRuns: 150 },
    );
    expect(await scanTable(table)).toEqual(before);
  });

  it(`every route that reads (${readRoutes.length}), prototype keys in the query: never a 5xx, nothing written`, async () => {
    const before = await scanTable(table);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...readRoutes), hostileQuery, async (route, query) => {
        const answer = await through.send({ method: 'GET', path: `${concretePath(route)}${query ? `?${query}` : ''}`, headers: bearer(tokens.admin) });
        expect(answer.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
    expect(await scanTable(table)).toEqual(before);
  });
});
