/**
 * Property: whatever a caller sends — malformed or hostile bodies, headers, tokens — the API answers
 * with a 4xx error document, never a 5xx, and writes nothing. 1,000 generated requests through the
 * local server on DynamoDB Local.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { apiTableOnDynamoDbLocal, localTarget, tokens, type ApiEnvironment, type HttpTarget } from '../support/http-targets.js';
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
