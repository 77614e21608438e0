/**
 * A rules service's answer (shared/adapters/rules-service/answer.ts): exactly `{allow: boolean,
 * reasons: string[]}` with a 2xx status; anything else is an error saying what is wrong, which the
 * use case turns into a fail-closed refusal or a fail-open allowance.
 */
import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../../shared/domain/errors.js';
import { MAX_ANSWER_BYTES, MAX_REASONS, parseRulesAnswer } from '../../../../shared/adapters/rules-service/answer.js';

const WHAT = 'rules service "change-board"';

function failure(status: number, body: string): string {
  try {
    parseRulesAnswer(WHAT, status, body);
  } catch (error) {
    expect(error).toBeInstanceOf(InternalError);
    return (error as Error).message;
  }
  throw new Error('expected the answer to be refused');
}

describe('parseRulesAnswer', () => {
  it('accepts an allowance and a refusal, with their reasons', () => {
    expect(parseRulesAnswer(WHAT, 200, '{"allow": true, "reasons": []}')).toEqual({ allow: true, reasons: [] });
    expect(parseRulesAnswer(WHAT, 201, '{"allow": false, "reasons": ["CHG-1 not approved", "freeze"]}')).toEqual({ allow: false, reasons: ['CHG-1 not approved', 'freeze'] });
  });

  it.each([
    ['a non-2xx status, with the start of its body', 401, '{"error":"bad signature"}', /answered HTTP 401: \{"error":"bad signature"\}/],
    ['a 3xx status', 302, '', /answered HTTP 302$/],
    ['a body that is not JSON', 200, 'OK', /not JSON/],
    ['allow as a string', 200, '{"allow": "true", "reasons": []}', /allow: /],
    ['a misspelt field', 200, '{"allowed": true, "reasons": []}', /invalid body/],
    ['missing reasons', 200, '{"allow": true}', /reasons: /],
    ['a reason that is not a string', 200, '{"allow": false, "reasons": [42]}', /reasons\.0: /],
    ['too many reasons', 200, JSON.stringify({ allow: false, reasons: Array.from({ length: MAX_REASONS + 1 }, () => 'r') }), /reasons: /],
    ['a reason too long', 200, JSON.stringify({ allow: false, reasons: ['x'.repeat(501)] }), /reasons\.0: /],
    ['an array', 200, '[]', /invalid body: the body/],
    ['an answer too large', 200, JSON.stringify({ allow: true, reasons: [], pad: 'x'.repeat(MAX_ANSWER_BYTES) }), /more than 65536 bytes/],
  ])('refuses %s, saying so', (_name, status, body, message) => {
    const said = failure(status, body);
    expect(said).toContain(WHAT);
    expect(said).toMatch(message);
  });
});
