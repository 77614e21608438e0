/** Opaque page cursors tied to the query they came from (shared/adapters/dynamodb/cursor.ts). */
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../../shared/adapters/dynamodb/cursor.js';
import { ValidationError } from '../../../../shared/domain/errors.js';

const QUERY = 'deployments:checkout:*';
const LAST_KEY = { pk: 'DEP#dep_1', sk: 'META', gsi1pk: 'SVC#checkout', gsi1sk: '2025-03-01T12:00:00.000Z#dep_1' };

function expectCursorRefused(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ValidationError);
  expect(thrown).toMatchObject({ field: 'cursor', rule: 'cursor' });
}

describe('cursors', () => {
  it('round trip: what encodeCursor gives, decodeCursor of the same query returns', () => {
    const cursor = encodeCursor(QUERY, LAST_KEY);
    expect(cursor).toBeDefined();
    expect(decodeCursor(QUERY, cursor)).toEqual(LAST_KEY);
  });

  it('is URL-safe: it goes into a query string as it is', () => {
    const cursor = encodeCursor(QUERY, { pk: '??>>//++', sk: 'ÿÿÿ' })!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('no last key means no more pages: no cursor', () => {
    expect(encodeCursor(QUERY, undefined)).toBeUndefined();
  });

  it('no cursor means the first page', () => {
    expect(decodeCursor(QUERY, undefined)).toBeUndefined();
  });

  it("another query's cursor is refused with ValidationError on field cursor", () => {
    const cursor = encodeCursor('deployments:payments:*', LAST_KEY);
    expectCursorRefused(() => decodeCursor(QUERY, cursor));
    expectCursorRefused(() => decodeCursor('audit:deployment/dep_1', encodeCursor(QUERY, LAST_KEY)));
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    ['an empty string', ''],
    ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['JSON without a key', Buffer.from(JSON.stringify({ q: QUERY })).toString('base64url')],
    ['a key with non-string values', Buffer.from(JSON.stringify({ q: QUERY, k: { pk: 1 } })).toString('base64url')],
    ['a key that is null', Buffer.from(JSON.stringify({ q: QUERY, k: null })).toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
  ])('%s is refused the same way', (_name, cursor) => {
    expectCursorRefused(() => decodeCursor(QUERY, cursor));
  });
});
