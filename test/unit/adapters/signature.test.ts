/** Outbound signatures (adapters/outbound/signature.ts): what docs/notifications.md tells a receiver to check. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeaders, signatureValid } from '../../../shared/adapters/outbound/signature.js';

const AT = new Date('2026-06-01T12:00:00.000Z');
const BODY = '{"id":"deployment/dep_a/v000002-converge","type":"step-done"}';

describe('signatures', () => {
  const headers = signatureHeaders('s3cret', AT, BODY);

  it('is HMAC-SHA256 over "<timestamp>.<body>", hex, prefixed v1=', () => {
    expect(headers['X-Crossfade-Timestamp']).toBe('1780315200');
    expect(headers['X-Crossfade-Signature']).toBe(`v1=${createHmac('sha256', 's3cret').update(`1780315200.${BODY}`).digest('hex')}`);
  });

  const check = (secret: string, body: string, now: Date, h = headers) => signatureValid(secret, { timestamp: h['X-Crossfade-Timestamp'], signature: h['X-Crossfade-Signature'] }, body, now);

  it('verifies with the same secret, body and a recent timestamp only', () => {
    expect(check('s3cret', BODY, AT)).toBe(true);
    expect(check('s3cret', BODY, new Date(AT.getTime() + 299_000))).toBe(true);
    expect(check('other', BODY, AT)).toBe(false);
    expect(check('s3cret', `${BODY} `, AT)).toBe(false);
    expect(check('s3cret', BODY, new Date(AT.getTime() + 301_000))).toBe(false); // a replay, too late
    expect(check('s3cret', BODY, AT, { ...headers, 'X-Crossfade-Timestamp': '1780315201' })).toBe(false);
    expect(signatureValid('s3cret', { timestamp: undefined, signature: headers['X-Crossfade-Signature'] }, BODY, AT)).toBe(false);
  });
});
