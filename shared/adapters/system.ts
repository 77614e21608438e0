/** The real clock, id generator and content hash. */
import type { Clock } from '../ports/clock.js';
import type { IdGenerator } from '../ports/ids.js';

// node:crypto is loaded on first use, not at import: loading it is a noticeable part of a cold
// start, and the health function never hashes (docs/architecture.md "Cold start").
const crypto = () => process.getBuiltinModule('node:crypto');

export const systemClock: Clock = { now: () => new Date() };

/** A clock that reads `startsAt` now and runs at real speed from there (crossfade.yaml `clock.startsAt`, the local stack only). */
export function clockStartingAt(startsAt: Date, realNow: number = Date.now()): Clock {
  const offsetMs = startsAt.getTime() - realNow;
  return { now: () => new Date(Date.now() + offsetMs) };
}

/** Lower-case hex sha256 of the UTF-8 text: what xDS snapshot versions are made of (engine `ContentHash`). */
export function sha256Hex(text: string): string {
  return crypto().createHash('sha256').update(text, 'utf8').digest('hex');
}

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** ULID-style ids: 10 characters of milliseconds then 16 random ones (80 bits), Crockford base32, lower case. */
export const randomIds: IdGenerator = {
  deploymentId: () => `dep_${encodeTime(Date.now())}${encodeRandom(16)}`,
};

function encodeTime(ms: number): string {
  let text = '';
  for (let i = 0; i < 10; i++) {
    text = CROCKFORD[ms % 32] + text;
    ms = Math.floor(ms / 32);
  }
  return text;
}

function encodeRandom(length: number): string {
  const bytes = crypto().randomBytes(length);
  return Array.from(bytes, (byte) => CROCKFORD[byte % 32]).join('');
}
