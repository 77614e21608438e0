/** A request body's identity for idempotency: the same JSON, whatever its key order and spacing. */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json.js';

/** sha256 of the body with keys sorted, so key order and whitespace do not make a "different body". */
export function hashCanonical(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
