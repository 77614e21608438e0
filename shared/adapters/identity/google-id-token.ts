/**
 * Verifies a Google-signed ID token (docs/direct-invocation.md) with google-auth-library's
 * verifySignedJwtWithCertsAsync: signature against Google's published keys, issuer
 * (accounts.google.com), audience (the function URL), issue and expiry times. The keys are read
 * from the JWKS URL (configurable, so tests run an issuer on loopback), converted to PEM and kept
 * as long as the answer's Cache-Control allows; a token naming a key we do not have reads them
 * again, at most once a minute, since Google rotates keys. The library is imported with the first
 * token to verify, so a function nobody calls with a Google identity never loads it.
 */
import type { JsonWebKey } from 'node:crypto';
import type { OAuth2Client } from 'google-auth-library';
import { DependencyUnavailableError, UnauthenticatedError } from '../../domain/errors.js';
import type { GoogleCallerIdentity } from '../../ports/caller-identity.js';
import type { Clock } from '../../ports/clock.js';
import { commonJs } from '../first-use-import.js';

export const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const DEFAULT_KEYS_TTL_MS = 60 * 60_000;
const MIN_REFETCH_MS = 60_000;

export interface GoogleIdTokenSettings {
  audience: string;
  certsUrl: string;
  clock: Clock;
  timeoutMs?: number;
}

interface KeySet {
  pems: Record<string, string>;
  fetchedAtMs: number;
  expiresAtMs: number;
}

/** True when `text` has a JWT's shape (three base64url parts): worth asking Google about. */
export function looksLikeJwt(text: string): boolean {
  return JWT.test(text);
}

export function createGoogleIdTokenVerifier(settings: GoogleIdTokenSettings): GoogleCallerIdentity {
  let client: Promise<OAuth2Client> | undefined;
  let keys: KeySet | undefined;

  async function keysFor(kid: string): Promise<Record<string, string>> {
    const nowMs = settings.clock.now().getTime();
    const stale = keys === undefined || nowMs >= keys.expiresAtMs || (!(kid in keys.pems) && nowMs - keys.fetchedAtMs >= MIN_REFETCH_MS);
    if (stale) keys = await fetchKeys(settings, nowMs);
    return keys!.pems;
  }

  return {
    async emailOf(idToken) {
      if (!looksLikeJwt(idToken)) throw new UnauthenticatedError('the Google ID token is not a JWT');
      const header = decodePart(idToken.split('.')[0]!);
      if (header?.['alg'] !== 'RS256' || typeof header['kid'] !== 'string') throw new UnauthenticatedError('the Google ID token must be signed RS256 with a key id');
      const pems = await keysFor(header['kid']);
      let payload: Record<string, unknown> | undefined;
      client ??= import('google-auth-library').then(commonJs).then(({ OAuth2Client }) => new OAuth2Client());
      const verifier = await client;
      try {
        payload = (await verifier.verifySignedJwtWithCertsAsync(idToken, pems, settings.audience, GOOGLE_ISSUERS)).getPayload() as Record<string, unknown> | undefined;
      } catch (error) {
        // The library's messages quote the token: say which rule failed, never the token.
        throw new UnauthenticatedError(`the Google ID token ${reasonOf(error)}`);
      }
      if (typeof payload?.['email'] !== 'string' || payload['email_verified'] !== true) throw new UnauthenticatedError('the Google ID token carries no verified email');
      return payload['email'];
    },
  };
}

async function fetchKeys(settings: GoogleIdTokenSettings, nowMs: number): Promise<KeySet> {
  let document: { keys?: unknown };
  let maxAgeMs = DEFAULT_KEYS_TTL_MS;
  try {
    const response = await fetch(settings.certsUrl, { signal: AbortSignal.timeout(settings.timeoutMs ?? 5_000), redirect: 'error' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    document = (await response.json()) as { keys?: unknown };
    const maxAge = /max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '');
    if (maxAge) maxAgeMs = Number(maxAge[1]) * 1000;
  } catch (error) {
    throw new DependencyUnavailableError(`Google's signing keys at ${settings.certsUrl}`, 'read', { cause: error });
  }
  const pems: Record<string, string> = {};
  for (const key of Array.isArray(document.keys) ? (document.keys as JsonWebKey[]) : []) {
    if (key.kty !== 'RSA' || typeof key['kid'] !== 'string') continue;
    try {
      pems[key['kid'] as string] = process.getBuiltinModule('node:crypto').createPublicKey({ key, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    } catch {
      // a key we cannot read verifies nothing
    }
  }
  return { pems, fetchedAtMs: nowMs, expiresAtMs: nowMs + maxAgeMs };
}

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const REASONS: [RegExp, string][] = [
  [/^No pem found/, 'is signed with a key Google does not publish'],
  [/^Invalid token signature/, 'has a signature that does not verify'],
  [/^Token used too late/, 'has expired'],
  [/^Token used too early/, 'is not valid yet'],
  [/^Expiration time too far/, 'expires too far in the future'],
  [/^Invalid issuer/, 'was not issued by Google (accounts.google.com)'],
  [/^Wrong recipient/, 'was made for another audience (it must be the function URL)'],
];

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  return REASONS.find(([pattern]) => pattern.test(message))?.[1] ?? 'is malformed';
}
