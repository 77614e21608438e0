/**
 * `POST /v1/deployments/by-key/{idempotencyKey}/cancel` (docs/api.md), Spinnaker's cancelEndpoint,
 * through the Lambda bundles, functions-framework and the local server on DynamoDB Local: 200 in
 * every case and harmless when repeated; a key naming a deployment cancels it, a key nobody used
 * yet is tombstoned so that a creation arriving later with it starts nothing (409, nothing
 * written), and a creation that claimed the key but died before writing its deployment is taken
 * over the same way.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores, type Stores } from '../../shared/adapters/dynamodb/stores.js';
import { scanTable } from '../support/store-backends.js';
import { makeDeployment } from '../support/deployments.js';
import { apiTableOnDynamoDbLocal, bearer, registerVersions, targetFactories, tokens, uniqueService, type Answer, type ApiEnvironment, type HttpTarget, type Sent } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';

let api: ApiEnvironment;
let stores: Stores;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('by-key');
  stores = createDynamoDbStores(api.table);
});

afterAll(async () => {
  await api?.stop();
});

interface ByKeyAnswer {
  idempotencyKey: string;
  outcome: 'deployment-canceled' | 'canceled-before-create';
  canceledAt?: string;
  canceledBy?: string;
  deployment: { id: string; status: string; phase: string } | null;
}

describe.each(targetFactories)('cancel by idempotency key through %s', (_name, factory) => {
  let target: HttpTarget;
  beforeAll(async () => {
    target = await factory();
  });
  afterAll(async () => {
    await target.stop();
  });

  const cancelByKey = (key: string, body?: unknown, token: string = tokens.checkoutDeployer): Promise<Answer> =>
    target.send({ method: 'POST', path: `/v1/deployments/by-key/${encodeURIComponent(key)}/cancel`, headers: { ...bearer(token), 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const create = (service: string, key: string): Sent => ({
    method: 'POST',
    path: '/v1/deployments',
    headers: { ...bearer(tokens.checkoutDeployer), 'content-type': 'application/json', 'x-idempotency-key': key },
    body: JSON.stringify(deploymentBody({ service, spinnaker: undefined })),
  });
  const eventsOf = async (id: string) => ((await target.send({ method: 'GET', path: `/v1/deployments/${id}/events`, headers: bearer(tokens.admin) })).body as { items: { action: string; actor: string; reason: string | null }[] }).items;

  it('a key naming a deployment cancels it, as POST /v1/deployments/{id}/cancel does; a repeat changes nothing', async () => {
    const service = uniqueService();
    await registerVersions(target, service);
    const key = `01J${randomUUID()}-3`;
    const created = await target.send(create(service, key));
    expect(created.status).toBe(202);
    const id = (created.body as { id: string }).id;

    const first = await cancelByKey(key, { reason: 'pipeline canceled' });
    expect(first.status, first.text).toBe(200);
    // Not started yet, so nothing to roll back: the run's next task ends it CANCELED.
    expect(first.body).toMatchObject({ idempotencyKey: key, outcome: 'deployment-canceled', deployment: { id, phase: 'ROLLING_BACK' } });
    const events = await eventsOf(id);
    expect(events.filter((e) => e.action === 'deployment.cancel')).toEqual([expect.objectContaining({ actor: 'checkout-pipeline', reason: 'pipeline canceled' })]);

    const again = await cancelByKey(key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await eventsOf(id)).toEqual(events);
  });

  it('a key nobody used yet: 200 and a tombstone; a create arriving later with it is 409 and writes nothing; repeats are harmless', async () => {
    const service = uniqueService();
    await registerVersions(target, service);
    const key = `01J${randomUUID()}-3`;

    const first = await cancelByKey(key);
    expect(first.status, first.text).toBe(200);
    expect(first.body).toEqual({ idempotencyKey: key, outcome: 'canceled-before-create', canceledAt: expect.any(String), canceledBy: 'checkout-pipeline', deployment: null });
    const again = await cancelByKey(key, { reason: 'again' });
    expect(again.body).toEqual(first.body);

    const before = await scanTable(api.table);
    const late = await target.send(create(service, key));
    expect(late.status).toBe(409);
    expect(late.body).toEqual({
      error: { code: 'IDEMPOTENCY_KEY_CANCELED', message: `idempotency key "${key}" was canceled by checkout-pipeline at ${(first.body as ByKeyAnswer).canceledAt}, before this creation arrived: nothing was created` },
    });
    expect(await scanTable(api.table)).toEqual(before);
    // Another token's key of the same text is another key: its creations are not touched.
    const other = await target.send({ ...create(service, key), headers: { ...create(service, key).headers, ...bearer(tokens.admin) } });
    expect(other.status).toBe(202);
  });

  it('a creation that claimed the key and died before writing its deployment: the key is tombstoned, its retry starts nothing', async () => {
    const service = uniqueService();
    await registerVersions(target, service);
    const key = `01J${randomUUID()}-3`;
    const orphan = makeDeployment({ service });
    // What the creation wrote before it died: its claim only (usecases/create-deployment.ts step 1).
    await stores.idempotency.claim({ key: `checkout-pipeline/${key}`, requestHash: 'sha256:any', deployment: orphan, createdAt: orphan.createdAt, expiresAtEpochSeconds: Math.floor(Date.now() / 1000) + 3600 });

    const answer = await cancelByKey(key);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ outcome: 'canceled-before-create', deployment: null });
    expect(await stores.idempotency.get(`checkout-pipeline/${key}`)).toMatchObject({ kind: 'canceled' });
    const retried = await target.send(create(service, key));
    expect(retried.status).toBe(409);
    expect(await stores.deployments.get(orphan.id)).toBeUndefined();
  });

  it('refuses a key that is not one, naming the parameter, and writes nothing', async () => {
    const before = await scanTable(api.table);
    const answer = await cancelByKey('has spaces');
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'idempotencyKey must be 1-200 printable ASCII characters without spaces', field: 'idempotencyKey', rule: 'idempotency-key' } });
    const badReason = await cancelByKey(`01J${randomUUID()}-3`, { reason: '' });
    expect(badReason.status).toBe(400);
    expect(badReason.body).toMatchObject({ error: { field: 'reason' } });
    expect(await scanTable(api.table)).toEqual(before);
  });
});
