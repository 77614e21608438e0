/**
 * The NotificationOutbox contract (shared/ports/notification-outbox.ts), run against DynamoDB Local
 * and the embedded store, and against the fake the use-case specifications use: an item is
 * enqueued once per notification and destination, pending items are listed earliest due first,
 * and a replace lands only on the pending item with the attempts the caller read (a claim).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import type { Notification } from '../../shared/domain/notifications/types.js';
import type { NotificationOutbox, OutboxItem } from '../../shared/ports/notification-outbox.js';
import { InMemoryNotificationOutbox } from '../support/outbox-fake.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';

function notification(id: string): Notification {
  return { id, type: 'promoted', at: '2026-01-01T00:00:00.000Z', actor: 'crossfade-canary', deployment: { id: 'dep_a', service: 'checkout', environment: 'prod', canary: 'v2', baseline: 'v1' }, phase: 'SUCCEEDED', stepIndex: 2, weights: { aws: { v1: 0, v2: 100 } }, reason: null, details: {} };
}

function item(id: string, destination: string, nextAttemptAt: string): OutboxItem {
  return { notification: notification(id), destination, status: 'pending', attempts: 0, lastError: null, nextAttemptAt, enqueuedAt: nextAttemptAt, finishedAt: null };
}

function contract(fresh: () => Promise<NotificationOutbox>): void {
  it('enqueues once per notification and destination; a repeat answers exists and changes nothing', async () => {
    const outbox = await fresh();
    const first = item('deployment/dep_a/v000002-promote', 'webhook:ops', '2026-01-01T00:00:01.000Z');
    expect(await outbox.enqueue(first)).toBe('enqueued');
    expect(await outbox.enqueue({ ...first, nextAttemptAt: '2026-01-01T00:09:00.000Z' })).toBe('exists');
    expect(await outbox.enqueue(item(first.notification.id, 'eventbridge', '2026-01-01T00:00:01.000Z'))).toBe('enqueued');
    const items = await outbox.itemsOf(first.notification.id);
    expect(items.map((i) => i.destination).sort()).toEqual(['eventbridge', 'webhook:ops']);
    expect(items.find((i) => i.destination === 'webhook:ops')).toEqual(first);
  });

  it('lists pending items earliest due first, and leaves finished ones out', async () => {
    const outbox = await fresh();
    const late = item('deployment/dep_a/v000003-x', 'webhook:ops', '2026-01-01T00:05:00.000Z');
    const early = item('deployment/dep_a/v000001-x', 'webhook:ops', '2026-01-01T00:01:00.000Z');
    const done = item('deployment/dep_a/v000002-x', 'webhook:ops', '2026-01-01T00:00:00.000Z');
    for (const i of [late, early, done]) await outbox.enqueue(i);
    expect(await outbox.replace(done, { ...done, status: 'delivered', attempts: 0, finishedAt: '2026-01-01T00:00:02.000Z' })).toBe(true);
    expect((await outbox.pending(10)).map((i) => i.notification.id)).toEqual([early.notification.id, late.notification.id]);
    expect((await outbox.pending(1)).map((i) => i.notification.id)).toEqual([early.notification.id]);
  });

  it('replaces only the pending item with the attempts read: a second claim of the same read loses', async () => {
    const outbox = await fresh();
    const read = item('deployment/dep_a/v000004-x', 'pubsub', '2026-01-01T00:00:00.000Z');
    await outbox.enqueue(read);
    const claimed = { ...read, attempts: 1, nextAttemptAt: '2026-01-01T00:00:10.000Z' };
    expect(await outbox.replace(read, claimed)).toBe(true);
    expect(await outbox.replace(read, { ...read, attempts: 1 })).toBe(false);
    expect(await outbox.replace(claimed, { ...claimed, status: 'undelivered', lastError: 'boom', finishedAt: '2026-01-01T00:00:03.000Z' })).toBe(true);
    expect(await outbox.replace(claimed, { ...claimed, status: 'delivered' })).toBe(false); // finished: no longer pending
    expect(await outbox.itemsOf(read.notification.id)).toEqual([{ ...claimed, status: 'undelivered', lastError: 'boom', finishedAt: '2026-01-01T00:00:03.000Z' }]);
    expect(await outbox.pending(10)).toEqual([]);
  });
}

describe.each(backendFactories)('NotificationOutbox on %s', (_name, startBackend) => {
  let backend: StoreBackend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  contract(async () => createDynamoDbStores(await backend.freshTable()).outbox);
});

describe('NotificationOutbox fake', () => {
  contract(async () => new InMemoryNotificationOutbox());
});
