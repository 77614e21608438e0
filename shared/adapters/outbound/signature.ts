/**
 * How crossfade signs what it sends (webhooks, the rules service): HMAC-SHA256 over
 * `<timestamp>.<body>` with a shared secret, sent as `X-Crossfade-Timestamp: <unix seconds>` and
 * `X-Crossfade-Signature: v1=<hex>`. The timestamp inside the MAC lets a receiver refuse replays of
 * an old request (docs/notifications.md shows the check); `v1=` leaves room for another scheme.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'X-Crossfade-Timestamp';
export const SIGNATURE_HEADER = 'X-Crossfade-Signature';

export function signatureOf(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Headers carrying the signature of `body` at `at`. */
export function signatureHeaders(secret: string, at: Date, body: string): Record<string, string> {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signatureOf(secret, timestamp, body) };
}

/** What a receiver does: the signature matches (in constant time) and the timestamp is within `toleranceSeconds` of `now`. */
export function signatureValid(secret: string, headers: { timestamp: string | undefined; signature: string | undefined }, body: string, now: Date, toleranceSeconds = 300): boolean {
  const { timestamp, signature } = headers;
  if (timestamp === undefined || signature === undefined || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signatureOf(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
