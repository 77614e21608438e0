/**
 * Reading the API cheaply (docs/api.md "Reading"), through the Lambda bundles, functions-framework
 * and the local server on DynamoDB Local, with every DynamoDB request counted on the wire
 * (dynamodb-counter.ts):
 * - `GET /v1/deployments/{id}` tags its document with an ETag of its bytes; If-None-Match naming
 *   it answers 304 with no body after one read, and the tag changes with the document, also when
 *   only the unversioned retry note changed;
 * - `GET /v1/services`: every readable service with its versions, weights and running deployment, paged;
 * - `GET /v1/deployments?status=RUNNING` across services reads the active runs, not the history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores, type Stores } from '../../shared/adapters/dynamodb/stores.js';
import { entityTag } from '../../shared/http/etag.js';
import { startDynamoDbCounter, type DynamoDbCounter } from '../support/dynamodb-counter.js';
import { apiTableOnDynamoDbLocal, bearer, registerVersions, targetFactories, tokens, uniqueService, type Answer, type ApiEnvironment, type HttpTarget } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';

let api: ApiEnvironment;
let stores: Stores;
let counter: DynamoDbCounter;

beforeAll(async () => {
  api = await apiTableOnDynamoDbLocal('reads');
  stores = createDynamoDbStores(api.table);
  counter = await startDynamoDbCounter(process.env['CROSSFADE_DYNAMODB_ENDPOINT']!);
  process.env['CROSSFADE_DYNAMODB_ENDPOINT'] = counter.endpoint;
});

afterAll(async () => {
  await counter?.stop();
  await api?.stop();
});

interface StatusDoc {
  id: string;
  status: string;
  retrying: unknown;
}

describe.each(targetFactories)('reads through %s', (_name, factory) => {
  let target: HttpTarget;
  beforeAll(async () => {
    target = await factory();
  });
  afterAll(async () => {
    await target.stop();
  });

  const get = (path: string, token: string = tokens.admin, headers: Record<string, string> = {}): Promise<Answer> => target.send({ method: 'GET', path, headers: { ...bearer(token), ...headers } });

  /** A NOT_STARTED deployment of a fresh `checkout-…` service (the fake Step Functions runs nothing). */
  async function created(service?: string): Promise<StatusDoc> {
    const name = service ?? uniqueService();
    await registerVersions(target, name);
    const answer = await target.send({ method: 'POST', path: '/v1/deployments', headers: { ...bearer(tokens.admin), 'content-type': 'application/json' }, body: JSON.stringify(deploymentBody({ service: name, spinnaker: undefined })) });
    expect(answer.status, answer.text).toBe(202);
    return answer.body as StatusDoc;
  }

  /** What a run's first task does to a deployment: RUNNING, one version on. */
  async function startRunning(id: string): Promise<void> {
    const stored = (await stores.deployments.get(id))!;
    await stores.deployments.update({ ...stored, phase: 'SHIFTING', version: stored.version + 1, updatedAt: new Date().toISOString() });
  }

  describe('ETag and If-None-Match on a deployment', () => {
    it('the ETag is strong and derived from the bytes sent; If-None-Match naming it → 304, no body, the tag again, after one read', async () => {
      const { id } = await created();
      const first = await get(`/v1/deployments/${id}`);
      expect(first.status).toBe(200);
      const etag = first.headers['etag']!;
      expect(etag).toBe(entityTag(first.text));
      expect(etag).toMatch(/^"[^"]+"$/);

      for (const ifNoneMatch of [etag, `W/${etag}`, `"stale", ${etag}`, '*']) {
        counter.reset();
        const again = await get(`/v1/deployments/${id}`, tokens.admin, { 'if-none-match': ifNoneMatch });
        expect(again.status, ifNoneMatch).toBe(304);
        expect(again.text).toBe('');
        expect(again.headers['etag']).toBe(etag);
        expect(again.headers['content-type']).toBeUndefined();
        expect(counter.counts()).toEqual({ GetItem: 1 });
      }
      const stale = await get(`/v1/deployments/${id}`, tokens.admin, { 'if-none-match': '"stale"' });
      expect(stale.status).toBe(200);
      expect(stale.text).toBe(first.text);
    });

    it('the tag changes when the document does: a retry note (no new version), then a cancel', async () => {
      const { id } = await created();
      const first = await get(`/v1/deployments/${id}`);
      const etag = first.headers['etag']!;
      await stores.deployments.noteRetry(id, { action: 'prepare', atVersion: 1, attempt: 2, maxAttempts: 7, reason: 'store throttled', at: new Date().toISOString() });
      expect((await stores.deployments.get(id))!.version).toBe(1);
      const noted = await get(`/v1/deployments/${id}`, tokens.admin, { 'if-none-match': etag });
      expect(noted.status).toBe(200);
      expect((noted.body as StatusDoc).retrying).toMatchObject({ action: 'prepare', attempt: 2 });
      expect(noted.headers['etag']).not.toBe(etag);
      expect(noted.headers['etag']).toBe(entityTag(noted.text));

      const cancel = await target.send({ method: 'POST', path: `/v1/deployments/${id}/cancel`, headers: bearer(tokens.admin) });
      expect(cancel.status).toBe(200);
      const canceled = await get(`/v1/deployments/${id}`, tokens.admin, { 'if-none-match': noted.headers['etag']! });
      expect(canceled.status).toBe(200);
      expect(canceled.headers['etag']).not.toBe(noted.headers['etag']);
    });

    it('a token outside the scope gets 403, also with If-None-Match: *', async () => {
      const { id } = await created();
      const answer = await get(`/v1/deployments/${id}`, tokens.paymentsDeployer, { 'if-none-match': '*' });
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ error: { code: 'FORBIDDEN', rule: 'scope' } });
    });
  });

  describe('GET /v1/services', () => {
    it('each service with its versions, weights per proxy group and its unfinished deployment (or null)', async () => {
      const idle = uniqueService();
      await registerVersions(target, idle);
      const splits = (await stores.registry.getService(idle))!.splits;
      const deploying = await created();
      const running = await created();
      await startRunning(running.id);

      const all = await listAll(tokens.reader);
      const byName = new Map(all.map((item) => [item.service, item]));
      expect(byName.get(idle)).toEqual({
        service: idle,
        versions: [
          { version: 'v41', registeredAt: expect.any(String), registeredBy: 'admin' },
          { version: 'v42', registeredAt: expect.any(String), registeredBy: 'admin' },
        ],
        weights: Object.fromEntries(splits.map((split) => [split.proxyGroup, split.weights])),
        deployment: null,
      });
      const deployingService = (await stores.deployments.get(deploying.id))!.service;
      expect(byName.get(deployingService)!.deployment).toEqual({ id: deploying.id, status: 'NOT_STARTED', phase: 'PENDING', canary: 'v42' });
      const runningService = (await stores.deployments.get(running.id))!.service;
      expect(byName.get(runningService)!.deployment).toEqual({ id: running.id, status: 'RUNNING', phase: 'SHIFTING', canary: 'v42' });
      // In name order, each once.
      expect(all.map((item) => item.service)).toEqual([...byName.keys()].sort());
    });

    it('pages with limit and cursor, lists only the services the token may read, and refuses a foreign cursor', async () => {
      const mine = uniqueService('checkout');
      const theirs = uniqueService('ledger');
      await registerVersions(target, mine);
      await registerVersions(target, theirs);
      const visible = await listAll(tokens.checkoutDeployer, 1);
      expect(visible.map((item) => item.service)).toContain(mine);
      expect(visible.every((item) => item.service.startsWith('checkout'))).toBe(true);
      expect((await listAll(tokens.reader)).map((item) => item.service)).toContain(theirs);

      const deployments = await get('/v1/deployments?limit=1', tokens.reader);
      const foreign = (deployments.body as { nextCursor: string }).nextCursor;
      const refused = await get(`/v1/services?cursor=${encodeURIComponent(foreign)}`, tokens.reader);
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'cursor is not a cursor this listing returned', field: 'cursor', rule: 'cursor' } });
      const unknown = await get('/v1/services?state=x', tokens.reader);
      expect(unknown.status).toBe(400);
      expect(unknown.body).toMatchObject({ error: { field: 'state', rule: 'no-unknown-fields' } });
    });

    /** Every page of the listing, following nextCursor with `limit` items a page. */
    async function listAll(token: string, limit = 100): Promise<{ service: string; deployment: unknown }[]> {
      const items: { service: string; deployment: unknown }[] = [];
      let cursor: string | null = null;
      do {
        const answer = await get(`/v1/services?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
        expect(answer.status, answer.text).toBe(200);
        const page = answer.body as { items: { service: string; deployment: unknown }[]; nextCursor: string | null };
        expect(page.items.length).toBeLessThanOrEqual(limit);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return items;
    }
  });

  describe('GET /v1/deployments?status=RUNNING across services', () => {
    it('lists exactly the running deployments, newest first, reading the active runs and those deployments only', async () => {
      const first = await created();
      const second = await created();
      const idle = await created();
      await startRunning(first.id);
      await startRunning(second.id);
      // A finished deployment is not listed (its mark, if a crash left one, names a finished run).
      const marks = await stores.activeRuns.list();

      counter.reset();
      const answer = await get('/v1/deployments?status=RUNNING&limit=100', tokens.reader);
      expect(answer.status).toBe(200);
      const ids = (answer.body as { items: StatusDoc[] }).items.map((d) => d.id);
      expect(ids).toEqual(expect.arrayContaining([second.id, first.id]));
      expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(first.id));
      expect(ids).not.toContain(idle.id);
      expect((answer.body as { items: StatusDoc[] }).items.every((d) => d.status === 'RUNNING')).toBe(true);
      // One query of the marks, one read per marked deployment: not the whole history.
      expect(counter.counts()).toEqual({ Query: 1, GetItem: marks.length });

      // Paged one at a time, the same deployments in the same order.
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Answer = await get(`/v1/deployments?status=RUNNING&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, tokens.reader);
        paged.push(...(page.body as { items: StatusDoc[] }).items.map((d) => d.id));
        cursor = (page.body as { nextCursor: string | null }).nextCursor;
      } while (cursor);
      expect(paged).toEqual(ids);
    });
  });
});
