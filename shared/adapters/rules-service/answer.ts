/**
 * A rules service's answer, validated: a 2xx status and exactly `{allow: boolean, reasons:
 * string[]}`. Anything else is no answer (the caller decides fail-closed or fail-open): a service
 * that answers `{"allowed": true}` by mistake must not pass for one that allows. Reasons are
 * bounded because every verdict is stored in the audit trail.
 */
import * as z from 'zod/mini';
import { InternalError } from '../../domain/errors.js';
import type { RulesAnswer } from '../../domain/policy/external.js';

export const MAX_REASONS = 20;
export const MAX_REASON_CHARS = 500;
export const MAX_ANSWER_BYTES = 64 * 1024;

const answerSchema = z.strictObject({
  allow: z.boolean(),
  reasons: z.array(z.string().check(z.maxLength(MAX_REASON_CHARS, `each must be at most ${MAX_REASON_CHARS} characters`))).check(z.maxLength(MAX_REASONS, `must list at most ${MAX_REASONS} reasons`)),
});

/** The answer of `what`, or InternalError saying what is wrong with it (the status, the JSON, the field). */
export function parseRulesAnswer(what: string, status: number, body: string): RulesAnswer {
  if (status < 200 || status > 299) throw new InternalError(`${what} answered HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
  if (Buffer.byteLength(body, 'utf8') > MAX_ANSWER_BYTES) throw new InternalError(`${what} answered more than ${MAX_ANSWER_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new InternalError(`${what} answered a body that is not JSON`);
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || 'the body';
    throw new InternalError(`${what} answered an invalid body: ${field}: ${issue.message} (expected {"allow": boolean, "reasons": [string]})`);
  }
  return parsed.data;
}
