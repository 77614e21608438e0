/**
 * Cursors of listings a use case pages itself (from a small set it reads whole): the sort key of a
 * page's last item plus the query it belongs to, so a cursor replayed against another query is
 * refused instead of silently skipping items (the same answer as the store's own cursors).
 */
import { ValidationError } from '../domain/errors.js';

export function encodeAfter(query: string, after: string): string {
  return Buffer.from(JSON.stringify({ q: query, a: after }), 'utf8').toString('base64url');
}

/** undefined: no cursor (the first page). Throws ValidationError (field `cursor`) for one this query did not hand out. */
export function decodeAfter(query: string, cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { q?: unknown; a?: unknown };
    if (parsed.q === query && typeof parsed.a === 'string') return parsed.a;
  } catch {
    // fall through: any undecodable cursor gets the same answer
  }
  throw new ValidationError('cursor is not a cursor this listing returned', 'cursor', 'cursor');
}

/**
 * `limit` items of `sorted` (sorted by `keyOf` in `order`, compared by code units as DynamoDB sorts
 * keys) that come after the cursor's item, and the cursor to the rest.
 */
export function pageAfter<T>(sorted: readonly T[], keyOf: (item: T) => string, order: 'ascending' | 'descending', query: string, limit: number, cursor: string | undefined): { items: T[]; nextCursor?: string } {
  const after = decodeAfter(query, cursor);
  const rest = after === undefined ? sorted : sorted.filter((item) => (order === 'ascending' ? keyOf(item) > after : keyOf(item) < after));
  const items = rest.slice(0, limit);
  return rest.length > limit ? { items, nextCursor: encodeAfter(query, keyOf(items.at(-1)!)) } : { items };
}
