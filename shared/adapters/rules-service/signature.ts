/**
 * How crossfade signs what it sends to a rules service (docs/policy.md "Verifying a request"):
 * HMAC-SHA256, keyed with the shared secret, over `<timestamp>.<body>` — the unix-seconds
 * timestamp, a dot, and the exact body bytes — sent as `X-Crossfade-Timestamp: <timestamp>` and
 * `X-Crossfade-Signature: v1=<lower-case hex>`. The timestamp inside the signed text lets the
 * receiver refuse a replayed request (older than five minutes); the `v1=` prefix leaves room for
 * another scheme later without breaking receivers.
 */
import { createHmac } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-crossfade-timestamp';
export const SIGNATURE_HEADER = 'x-crossfade-signature';

/** `v1=<hex>` for `body` sent at `timestampSeconds`. */
export function signatureOf(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex')}`;
}

/** The headers a signed request carries besides its content type. */
export function signedHeaders(secret: string, now: Date, body: string): Record<string, string> {
  const timestampSeconds = Math.floor(now.getTime() / 1000);
  return { [TIMESTAMP_HEADER]: String(timestampSeconds), [SIGNATURE_HEADER]: signatureOf(secret, timestampSeconds, body) };
}
