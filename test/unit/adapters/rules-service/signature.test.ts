/**
 * The rules service request's signature (shared/adapters/rules-service/signature.ts, docs/policy.md
 * "Verifying a request"): HMAC-SHA256 over `<timestamp>.<body>`, hex, prefixed `v1=`. A known
 * vector computed apart (openssl: `printf '1767225600.{"a":1}' | openssl dgst -sha256 -hmac s3cret`)
 * pins the exact text signed.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, signatureOf, signedHeaders, TIMESTAMP_HEADER } from '../../../../shared/adapters/rules-service/signature.js';

describe('signatureOf', () => {
  it('is v1= and the hex HMAC-SHA256 of "<timestamp>.<body>" with the secret, as openssl computes it', () => {
    const expected = execFileSync('openssl', ['dgst', '-sha256', '-hmac', 's3cret', '-r'], { input: '1767225600.{"a":1}' }).toString().split(' ')[0];

    expect(signatureOf('s3cret', 1767225600, '{"a":1}')).toBe(`v1=${expected}`);
  });

  it('changes with the secret, the timestamp and every byte of the body', () => {
    const base = signatureOf('s3cret', 1767225600, '{"a":1}');
    expect(signatureOf('s3cret!', 1767225600, '{"a":1}')).not.toBe(base);
    expect(signatureOf('s3cret', 1767225601, '{"a":1}')).not.toBe(base);
    expect(signatureOf('s3cret', 1767225600, '{"a":2}')).not.toBe(base);
    expect(signatureOf('s3cret', 1767225600, '{"a": 1}')).not.toBe(base);
  });
});

describe('signedHeaders', () => {
  it('carries the unix-seconds timestamp (rounded down) and the signature over it', () => {
    const headers = signedHeaders('s3cret', new Date('2026-01-01T00:00:00.999Z'), '{}');

    expect(headers).toEqual({ [TIMESTAMP_HEADER]: '1767225600', [SIGNATURE_HEADER]: signatureOf('s3cret', 1767225600, '{}') });
  });
});
