/** The AuditLog contract (shared/ports/audit-log.ts), run against DynamoDB Local and the embedded store. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import type { AuditEvent, AuditLog } from '../../shared/ports/audit-log.js';
import { minutesAfterT0 } from '../support/deployments.js';
import { backendFactories, type StoreBackend } from '../support/store-backends.js';

const SUBJECT = 'deployment/dep_01J00000000000000000000001';

/** The event a deployment's `version`-th write records: its eventId is derived from the version, as callers do. */
function makeEvent(subject: string, version: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    subject,
    eventId: `v${String(version).padStart(10, '0')}`,
    at: minutesAfterT0(version).toISOString(),
    actor: 'tok_spinnaker',
    action: version === 1 ? 'deployment.created' : 'deployment.advanced',
    reason: version === 1 ? 'release 1.5.0' : null,
    details: { version, weights: { aws: { 'v1.5.0': version * 10 } } },
    ...overrides,
  };
}

describe.each(backendFactories)('AuditLog on %s', (_name, startBackend) => {
  let backend: StoreBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend.stop());

  async function freshLog(): Promise<AuditLog> {
    return createDynamoDbStores(await backend.freshTable()).audit;
  }

  /** Every event of a subject, page by page; guards against a cursor that never ends. */
  async function allPages(log: AuditLog, subject: string, limit: number): Promise<AuditEvent[][]> {
    const pages: AuditEvent[][] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list(subject, { limit, cursor });
      pages.push(page.items);
      cursor = page.nextCursor;
      if (pages.length > 50) throw new Error('listing did not end after 50 pages');
    } while (cursor !== undefined);
    return pages;
  }

  describe('append', () => {
    it('stores the event whole', async () => {
      const log = await freshLog();
      const event = makeEvent(SUBJECT, 1);

      await log.append(event);

      expect(await log.list(SUBJECT, { limit: 10 })).toEqual({ items: [event] });
    });

    it('stores an event once: appending the same subject and eventId again is a no-op', async () => {
      const log = await freshLog();
      const event = makeEvent(SUBJECT, 2);

      await log.append(event);
      await log.append(event);
      await log.append({ ...event, action: 'deployment.retried', details: { attempt: 2 } });

      expect((await log.list(SUBJECT, { limit: 10 })).items).toEqual([event]);
    });
  });

  describe('list', () => {
    it('lists oldest first (by eventId), whatever order the events were appended in', async () => {
      const log = await freshLog();
      const events = [1, 2, 3, 4, 5].map((version) => makeEvent(SUBJECT, version));
      for (const index of [2, 0, 4, 1, 3]) await log.append(events[index]!);

      expect((await log.list(SUBJECT, { limit: 10 })).items).toEqual(events);
    });

    it('pages with limit and nextCursor, returning every event exactly once, in order', async () => {
      const log = await freshLog();
      const events = Array.from({ length: 7 }, (_, i) => makeEvent(SUBJECT, i + 1));
      for (const event of events) await log.append(event);

      const pages = await allPages(log, SUBJECT, 3);

      expect(pages.every((items) => items.length <= 3)).toBe(true);
      expect(pages[0]).toHaveLength(3);
      expect(pages.flat()).toEqual(events);
    });

    it('keeps subjects apart, even when one subject is a prefix of another', async () => {
      const log = await freshLog();
      const a = makeEvent('deployment/dep_1', 1);
      const b = makeEvent('deployment/dep_10', 1);
      const c = makeEvent('service/checkout', 1);
      for (const event of [a, b, c]) await log.append(event);

      expect((await log.list('deployment/dep_1', { limit: 10 })).items).toEqual([a]);
      expect((await log.list('deployment/dep_10', { limit: 10 })).items).toEqual([b]);
      expect((await log.list('service/checkout', { limit: 10 })).items).toEqual([c]);
      expect(await log.list('deployment/dep_2', { limit: 10 })).toEqual({ items: [] });
    });
  });
});
