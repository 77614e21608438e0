/**
 * The DeploymentStore contract (shared/ports/deployment-store.ts), run against every backend the
 * DynamoDB adapter serves: DynamoDB Local and the embedded store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { revise, type Deployment, type DeploymentStatus } from '../../shared/domain/deployment.js';
import { ValidationError, VersionConflictError } from '../../shared/domain/errors.js';
import type { DeploymentQuery, DeploymentStore } from '../../shared/ports/deployment-store.js';
import { makeDeployment, minutesAfterT0 } from '../support/deployments.js';
import { backendFactories, scanTable, type StoreBackend } from '../support/store-backends.js';
import { rejectionOf } from '../support/errors.js';

const LATER = minutesAfterT0(600);

/** The error a promise rejects with; fails the test when it resolves. */

function expectVersionConflict(error: unknown): void {
  expect(error).toBeInstanceOf(VersionConflictError);
  expect(error).toMatchObject({ name: 'VersionConflictError', retryable: true });
}

function expectCursorRejected(error: unknown): void {
  expect(error).toBeInstanceOf(ValidationError);
  expect(error).toMatchObject({ name: 'ValidationError', field: 'cursor' });
}

/** Every page of a query, following nextCursor; guards against a cursor that never ends. */
async function allPages(store: DeploymentStore, query: DeploymentQuery): Promise<Deployment[][]> {
  const pages: Deployment[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...query, cursor });
    pages.push(page.items);
    cursor = page.nextCursor;
    if (pages.length > 50) throw new Error('listing did not end after 50 pages');
  } while (cursor !== undefined);
  return pages;
}

const ids = (deployments: Deployment[]) => deployments.map((d) => d.id);

describe.each(backendFactories)('DeploymentStore on %s', (_name, startBackend) => {
  let backend: StoreBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  async function freshStore(): Promise<{ store: DeploymentStore; items: () => Promise<Record<string, unknown>[]> }> {
    const table = await backend.freshTable();
    return { store: createDynamoDbStores(table).deployments, items: () => scanTable(table) };
  }

  /** Stores `count` deployments created a minute apart (oldest first) and returns them in that order. */
  async function createSeries(store: DeploymentStore, count: number, input: (i: number) => Parameters<typeof makeDeployment>[0] = () => ({})) {
    const created: Deployment[] = [];
    for (let i = 0; i < count; i++) {
      const deployment = makeDeployment(input(i), minutesAfterT0(i));
      expect(await store.createIfAbsent(deployment)).toBe('created');
      created.push(deployment);
    }
    return created;
  }

  async function finish(store: DeploymentStore, deployment: Deployment): Promise<Deployment> {
    const succeeded = revise(deployment, { phase: 'SUCCEEDED', stepIndex: deployment.steps.length }, LATER);
    await store.update(succeeded);
    return succeeded;
  }

  describe('createIfAbsent', () => {
    it('stores a new deployment, answers "created", and get returns it whole', async () => {
      const { store } = await freshStore();
      const deployment = makeDeployment();

      expect(await store.createIfAbsent(deployment)).toBe('created');

      expect(await store.get(deployment.id)).toEqual(deployment);
    });

    it('answers "exists" for a taken id and does not overwrite what is stored', async () => {
      const { store, items } = await freshStore();
      const original = makeDeployment({ service: 'checkout' });
      await store.createIfAbsent(original);
      const impostor = makeDeployment({ id: original.id, service: 'payments', canary: { version: 'v9' } }, LATER);

      expect(await store.createIfAbsent(impostor)).toBe('exists');
      expect(await store.createIfAbsent(original)).toBe('exists');

      expect(await store.get(original.id)).toEqual(original);
      expect(await items()).toHaveLength(1);
    });
  });

  describe('get', () => {
    it('returns undefined for an id no deployment has', async () => {
      const { store } = await freshStore();
      await store.createIfAbsent(makeDeployment());

      expect(await store.get('dep_NOSUCHDEPLOYMENT000000000')).toBeUndefined();
    });
  });

  describe('update', () => {
    it('replaces the stored deployment when it is at next.version - 1, one version at a time', async () => {
      const { store } = await freshStore();
      const v1 = makeDeployment();
      await store.createIfAbsent(v1);

      const v2 = revise(v1, { phase: 'PREPARING' }, minutesAfterT0(1));
      await store.update(v2);
      expect(await store.get(v1.id)).toEqual(v2);

      const v3 = revise(v2, { phase: 'SHIFTING', weights: { aws: { 'v1.4.0': 90, 'v1.5.0': 10 } } }, minutesAfterT0(2));
      await store.update(v3);
      expect(await store.get(v1.id)).toEqual(v3);
      expect(v3.version).toBe(3);
    });

    it('throws VersionConflictError (retryable) for a stale version and keeps the write that won', async () => {
      const { store } = await freshStore();
      const v1 = makeDeployment();
      await store.createIfAbsent(v1);
      const winner = revise(v1, { phase: 'PREPARING' }, minutesAfterT0(1));
      const loser = revise(v1, { phase: 'CANCELED' }, minutesAfterT0(1));
      await store.update(winner);

      expectVersionConflict(await rejectionOf(store.update(loser)));

      expect(await store.get(v1.id)).toEqual(winner);
    });

    it('throws VersionConflictError for a version that skips ahead', async () => {
      const { store } = await freshStore();
      const v1 = makeDeployment();
      await store.createIfAbsent(v1);
      const v3 = revise(revise(v1, { phase: 'PREPARING' }, LATER), { phase: 'SHIFTING' }, LATER);

      expectVersionConflict(await rejectionOf(store.update(v3)));

      expect(await store.get(v1.id)).toEqual(v1);
    });

    it('throws VersionConflictError for a replay of a write that already landed', async () => {
      const { store } = await freshStore();
      const v1 = makeDeployment();
      await store.createIfAbsent(v1);
      const v2 = revise(v1, { phase: 'PREPARING' }, minutesAfterT0(1));
      await store.update(v2);

      expectVersionConflict(await rejectionOf(store.update(v2)));

      expect(await store.get(v1.id)).toEqual(v2);
    });

    it('throws VersionConflictError for a deployment that does not exist, and creates nothing', async () => {
      const { store, items } = await freshStore();
      const neverStored = revise(makeDeployment(), { phase: 'PREPARING' }, LATER);

      expectVersionConflict(await rejectionOf(store.update(neverStored)));

      expect(await store.get(neverStored.id)).toBeUndefined();
      expect(await items()).toEqual([]);
    });
  });

  describe('list', () => {
    it('lists every deployment newest first', async () => {
      const { store } = await freshStore();
      const services = ['checkout', 'payments', 'search', 'checkout'];
      const created = await createSeries(store, services.length, (i) => ({ service: services[i] }));

      const page = await store.list({ limit: 10 });

      expect(ids(page.items)).toEqual(ids(created).reverse());
      expect(page.items).toEqual([...created].reverse());
      expect(page.nextCursor).toBeUndefined();
    });

    it('returns an empty page without a cursor when nothing matches', async () => {
      const { store } = await freshStore();

      expect(await store.list({ limit: 10 })).toEqual({ items: [] });
    });

    it('lists only one service\'s deployments, newest first, when asked by service', async () => {
      const { store } = await freshStore();
      // 'checkout-v2' starts with 'checkout': the filter must match whole names, not prefixes.
      const services = ['checkout', 'payments', 'checkout', 'checkout-v2', 'checkout'];
      const created = await createSeries(store, services.length, (i) => ({ service: services[i] }));

      const page = await store.list({ service: 'checkout', limit: 10 });

      expect(ids(page.items)).toEqual([created[4]!.id, created[2]!.id, created[0]!.id]);
      expect(page.items.every((d) => d.service === 'checkout')).toBe(true);
      expect((await store.list({ service: 'nobody', limit: 10 })).items).toEqual([]);
    });

    it('filters on the status derived from the phase, as it is after the latest update', async () => {
      const { store } = await freshStore();
      const created = await createSeries(store, 5, (i) => ({ service: i % 2 === 0 ? 'checkout' : 'payments' }));
      const succeeded = [await finish(store, created[1]!), await finish(store, created[2]!)];
      await store.update(revise(created[3]!, { phase: 'ANALYZING' }, LATER));

      const byStatus = async (status: DeploymentStatus, service?: string) => ids((await store.list({ status, service, limit: 10 })).items);

      expect(await byStatus('SUCCEEDED')).toEqual([created[2]!.id, created[1]!.id]);
      expect((await store.list({ status: 'SUCCEEDED', limit: 10 })).items).toEqual([succeeded[1], succeeded[0]]);
      expect(await byStatus('NOT_STARTED')).toEqual([created[4]!.id, created[0]!.id]);
      expect(await byStatus('RUNNING')).toEqual([created[3]!.id]);
      expect(await byStatus('TERMINAL')).toEqual([]);
      expect(await byStatus('SUCCEEDED', 'payments')).toEqual([created[1]!.id]);
      expect(await byStatus('NOT_STARTED', 'checkout')).toEqual([created[4]!.id, created[0]!.id]);
    });

    it('pages with limit and nextCursor, returning every deployment exactly once, in order', async () => {
      const { store } = await freshStore();
      const created = await createSeries(store, 7);

      const pages = await allPages(store, { limit: 3 });

      expect(pages.every((items) => items.length <= 3)).toBe(true);
      expect(pages[0]).toHaveLength(3);
      expect(ids(pages.flat())).toEqual(ids(created).reverse());
    });

    it('pages a service listing and a status-filtered listing, each deployment exactly once', async () => {
      const { store } = await freshStore();
      const created = await createSeries(store, 10, (i) => ({ service: i % 3 === 0 ? 'payments' : 'checkout' }));
      const finished = created.filter((_, i) => i % 2 === 1);
      for (const deployment of finished) await finish(store, deployment);

      const checkoutPages = await allPages(store, { service: 'checkout', limit: 2 });
      expect(checkoutPages.every((items) => items.length <= 2)).toBe(true);
      expect(ids(checkoutPages.flat())).toEqual(ids(created.filter((d) => d.service === 'checkout')).reverse());

      const succeededPages = await allPages(store, { status: 'SUCCEEDED', limit: 2 });
      expect(succeededPages.every((items) => items.length <= 2)).toBe(true);
      expect(ids(succeededPages.flat())).toEqual(ids(finished).reverse());
    });

    it('rejects a cursor from another query with ValidationError on field "cursor"', async () => {
      const { store } = await freshStore();
      await createSeries(store, 4, (i) => ({ service: i % 2 === 0 ? 'checkout' : 'payments' }));
      const { nextCursor: checkoutCursor } = await store.list({ service: 'checkout', limit: 1 });
      const { nextCursor: everyCursor } = await store.list({ limit: 1 });
      const { nextCursor: statusCursor } = await store.list({ status: 'NOT_STARTED', limit: 1 });
      expect(checkoutCursor).toBeDefined();
      expect(everyCursor).toBeDefined();
      expect(statusCursor).toBeDefined();

      expectCursorRejected(await rejectionOf(store.list({ service: 'payments', limit: 1, cursor: checkoutCursor })));
      expectCursorRejected(await rejectionOf(store.list({ limit: 1, cursor: checkoutCursor })));
      expectCursorRejected(await rejectionOf(store.list({ service: 'checkout', limit: 1, cursor: everyCursor })));
      expectCursorRejected(await rejectionOf(store.list({ limit: 1, cursor: statusCursor })));
      expectCursorRejected(await rejectionOf(store.list({ status: 'SUCCEEDED', limit: 1, cursor: statusCursor })));
    });

    it('rejects a cursor it never returned with ValidationError on field "cursor"', async () => {
      const { store } = await freshStore();
      await createSeries(store, 2);
      const forged = Buffer.from(JSON.stringify({ q: 'deployments:*:*', k: { pk: 1 } }), 'utf8').toString('base64url');

      for (const cursor of ['not-a-cursor', '', '%%%', Buffer.from('{"q":', 'utf8').toString('base64url'), forged]) {
        expectCursorRejected(await rejectionOf(store.list({ limit: 1, cursor })));
      }
    });
  });

  describe('noteRetry', () => {
    it('notes a retry on the deployment without a new version; the next write ends it', async () => {
      const { store } = await freshStore();
      const d = makeDeployment();
      await store.createIfAbsent(d);
      const note = { action: 'shift', atVersion: 1, attempt: 2, maxAttempts: 7, reason: 'HAProxy hap1: set server weight failed', at: LATER.toISOString() };

      await store.noteRetry(d.id, note);
      const noted = (await store.get(d.id))!;
      expect(noted.version).toBe(1);
      expect(noted.retrying).toEqual(note);

      await store.update(revise(noted, { phase: 'SHIFTING' }, LATER));
      expect((await store.get(d.id))!.retrying).toBeUndefined();
    });

    it('a note about an older version is a no-op (the deployment moved on)', async () => {
      const { store } = await freshStore();
      const d = makeDeployment();
      await store.createIfAbsent(d);
      await store.update(revise(d, { phase: 'SHIFTING' }, LATER));

      await store.noteRetry(d.id, { action: 'shift', atVersion: 1, attempt: 2, maxAttempts: null, reason: 'late', at: LATER.toISOString() });

      expect((await store.get(d.id))!.retrying).toBeUndefined();
    });
  });

  describe('deleteUnstarted', () => {
    it('deletes a deployment still at version 1; "absent" after', async () => {
      const { store, items } = await freshStore();
      const d = makeDeployment();
      await store.createIfAbsent(d);
      expect(await store.deleteUnstarted(d.id)).toBe('deleted');
      expect(await store.get(d.id)).toBeUndefined();
      expect(await items()).toEqual([]);
      expect(await store.deleteUnstarted(d.id)).toBe('absent');
    });

    it('keeps a deployment whose run started ("started")', async () => {
      const { store } = await freshStore();
      const d = makeDeployment();
      await store.createIfAbsent(d);
      const moved = revise(d, { phase: 'SHIFTING' }, LATER);
      await store.update(moved);
      expect(await store.deleteUnstarted(d.id)).toBe('started');
      expect(await store.get(d.id)).toEqual(moved);
    });
  });
});
