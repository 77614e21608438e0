/**
 * The operator's `reason`, optional on every change (docs/api.md): kept in the audit trail beside
 * the actor, so "who changed what" also says why.
 */
import * as z from 'zod/mini';
import { parseWith } from './zod-errors.js';

export const reasonField = z.optional(z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(500, 'must be at most 500 characters')));

const reasonOnly = z.strictObject({ reason: reasonField });

/** A body that may say why and nothing else (an empty body is none). */
export function parseReasonOnly(raw: Record<string, unknown>): string | null {
  return parseWith(reasonOnly, raw).reason ?? null;
}
