/**
 * Opaque page cursors: DynamoDB's LastEvaluatedKey plus a fingerprint of the query it belongs to,
 * so a cursor replayed against another query is refused instead of silently skipping items.
 */
import { ValidationError } from '../../domain/errors.js';

type Key = Record<string, unknown>;

export function encodeCursor(query: string, lastKey: Key | undefined): string | undefined {
  if (!lastKey) return undefined;
  return Buffer.from(JSON.stringify({ q: query, k: lastKey }), 'utf8').toString('base64url');
}

export function decodeCursor(query: string, cursor: string | undefined): Key | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { q?: unknown; k?: unknown };
    if (parsed.q === query && isStringMap(parsed.k)) return parsed.k;
  } catch {
    // fall through: any undecodable cursor gets the same answer
  }
  throw invalidCursor();
}

/** The one answer to a cursor this listing did not return, also when DynamoDB refuses the key a forged one carries. */
export function invalidCursor(): ValidationError {
  return new ValidationError('cursor is not a cursor this listing returned', 'cursor', 'cursor');
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}
