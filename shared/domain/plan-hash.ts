/**
 * The plan's fingerprint: FNV-1a (64 bits) of its canonical JSON. Pure (the domain imports no
 * crypto); it tells two plans apart in the status document and the audit trail, and is not a
 * security boundary (request bodies are hashed with sha256 where that matters, for idempotency).
 */
import { canonicalJson } from './canonical-json.js';
import type { Step } from './deployment.js';

const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

export function planHash(steps: readonly Step[]): string {
  let hash = OFFSET;
  for (const byte of new TextEncoder().encode(canonicalJson(steps))) hash = ((hash ^ BigInt(byte)) * PRIME) & MASK;
  return `plan_${hash.toString(16).padStart(16, '0')}`;
}
