/** Bearer-token authentication and scope checks (docs/api.md "Auth"). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TokenEntry } from '../../../shared/domain/config.js';
import { ForbiddenError, UnauthenticatedError } from '../../../shared/domain/errors.js';
import { authenticate, generateToken, hashToken, indexTokens, requireAccess, requireAccessToEveryService, type Principal } from '../../../shared/http/auth.js';

const ADMIN_TOKEN = 'cf_admin_secret_token_value_0001';
const DEPLOYER_TOKEN = 'cf_deployer_secret_token_value_02';

const entries: TokenEntry[] = [
  { id: 'admin', sha256: hashToken(ADMIN_TOKEN), scopes: [{ kind: 'admin' }] },
  { id: 'checkout-pipeline', sha256: hashToken(DEPLOYER_TOKEN), scopes: [{ kind: 'deploy', serviceGlob: 'checkout*' }] },
];
const index = indexTokens(entries);

/** The UnauthenticatedError `authenticate` throws; fails the test when it authenticates. */
function unauthenticatedBy(header: string | undefined): UnauthenticatedError {
  try {
    authenticate(header, index);
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthenticatedError);
    return error as UnauthenticatedError;
  }
  throw new Error(`expected ${JSON.stringify(header)} to be refused`);
}

function forbiddenBy(fn: () => void): ForbiddenError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ForbiddenError);
    return error as ForbiddenError;
  }
  throw new Error('expected a ForbiddenError');
}

describe('hashToken', () => {
  it('is the sha256 of the token, lower-case hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken(ADMIN_TOKEN)).toBe(createHash('sha256').update(ADMIN_TOKEN).digest('hex'));
    expect(hashToken(ADMIN_TOKEN)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('generateToken', () => {
  it('is cf_ and 43 base64url characters (256 random bits)', () => {
    expect(generateToken()).toMatch(/^cf_[A-Za-z0-9_-]{43}$/);
  });

  it('never repeats', () => {
    const tokens = new Set(Array.from({ length: 200 }, generateToken));
    expect(tokens.size).toBe(200);
  });

  it('is accepted by authenticate once its hash is known', () => {
    const token = generateToken();
    expect(authenticate(`Bearer ${token}`, indexTokens([{ id: 'new', sha256: hashToken(token), scopes: [] }]))).toEqual({ tokenId: 'new', scopes: [] });
  });
});

describe('authenticate', () => {
  it('a known token yields its principal: the token id and its scopes', () => {
    expect(authenticate(`Bearer ${DEPLOYER_TOKEN}`, index)).toEqual({ tokenId: 'checkout-pipeline', scopes: [{ kind: 'deploy', serviceGlob: 'checkout*' }] });
    expect(authenticate(`Bearer ${ADMIN_TOKEN}`, index)).toMatchObject({ tokenId: 'admin' });
  });

  it.each([undefined, ''])('a missing header (%j) is refused', (header) => {
    expect(unauthenticatedBy(header).message).toContain('missing Authorization header');
  });

  it.each([
    ['another scheme', 'Basic dXNlcjpodW50ZXIy'],
    ['a token too short to be one', 'Bearer shorttok'],
    ['no token', 'Bearer'],
    ['two words', `Bearer ${ADMIN_TOKEN} extra`],
    ['a control character', `Bearer ${ADMIN_TOKEN}\u0007x`],
  ])('a malformed header (%s) is refused', (_name, header) => {
    expect(unauthenticatedBy(header).message).toContain('Bearer <token>');
  });

  it('a well-formed token nobody was given is refused', () => {
    expect(unauthenticatedBy('Bearer cf_unknown_but_well_formed_token_0003').message).toBe('the bearer token is not valid');
  });

  it('no error message contains the token presented', () => {
    const presented = [
      'cf_unknown_but_well_formed_token_0003',
      'shorttok',
      'dXNlcjpodW50ZXIy',
      `${ADMIN_TOKEN}x`,
      `${ADMIN_TOKEN} ${ADMIN_TOKEN}`,
    ];
    for (const token of presented) {
      for (const header of [`Bearer ${token}`, `Basic ${token}`, token]) {
        const error = unauthenticatedBy(header);
        expect(error.message).not.toContain(token);
        expect(JSON.stringify(error)).not.toContain(token);
      }
    }
  });
});

describe('requireAccess', () => {
  const deployer: Principal = { tokenId: 'checkout-pipeline', scopes: [{ kind: 'deploy', serviceGlob: 'checkout*' }] };
  const reader: Principal = { tokenId: 'auditor', scopes: [{ kind: 'read', serviceGlob: '*' }] };

  it('passes when a scope allows the access', () => {
    expect(() => requireAccess(deployer, 'deploy', 'checkout')).not.toThrow();
    expect(() => requireAccess(deployer, 'read', 'checkout-api')).not.toThrow();
    expect(() => requireAccess(reader, 'read', 'payments')).not.toThrow();
  });

  it('throws ForbiddenError with rule scope, naming the token, the access and the service', () => {
    const error = forbiddenBy(() => requireAccess(deployer, 'deploy', 'payments'));
    expect(error.rule).toBe('scope');
    expect(error.message).toContain('checkout-pipeline');
    expect(error.message).toContain('deploy');
    expect(error.message).toContain('payments');
    expect(forbiddenBy(() => requireAccess(reader, 'deploy', 'payments')).rule).toBe('scope');
  });
});

describe('requireAccessToEveryService', () => {
  it('passes for admin and for a * glob of the access asked', () => {
    expect(() => requireAccessToEveryService({ tokenId: 'admin', scopes: [{ kind: 'admin' }] }, 'deploy')).not.toThrow();
    expect(() => requireAccessToEveryService({ tokenId: 'auditor', scopes: [{ kind: 'read', serviceGlob: '*' }] }, 'read')).not.toThrow();
  });

  it('throws ForbiddenError with rule scope for a narrower glob', () => {
    const error = forbiddenBy(() => requireAccessToEveryService({ tokenId: 'checkout-pipeline', scopes: [{ kind: 'deploy', serviceGlob: 'checkout*' }] }, 'read'));
    expect(error.rule).toBe('scope');
    expect(error.message).toContain('?service=');
  });
});
