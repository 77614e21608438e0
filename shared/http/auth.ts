/**
 * Bearer-token authentication (docs/api.md "Auth"). Only sha256 hashes of tokens are known to crossfade;
 * a presented token is hashed and looked up. Tokens are random 32-byte secrets, so a fast hash is
 * the right tool (a slow password hash protects guessable secrets, not random ones), and looking
 * up by hash leaks nothing an attacker can steer. The token itself is never logged or stored.
 */
import type { TokenEntry } from '../domain/config.js';
import { ForbiddenError, UnauthenticatedError } from '../domain/errors.js';
import { allows, allowsEveryService, allowsXds, type Access, type Scope } from '../domain/scopes.js';

// node:crypto is loaded on first use, not at import: loading it is a noticeable part of a cold
// start, and the health function never hashes (docs/architecture.md "Cold start").
const crypto = () => process.getBuiltinModule('node:crypto');

export interface Principal {
  /** Who: a token's id, the ARN STS named (`kind: 'iam'`), or a Google account's email (`kind: 'google'`). The audit's actor. */
  tokenId: string;
  scopes: Scope[];
  /** Absent for crossfade tokens. */
  kind?: 'iam' | 'google';
}

/** The principal as messages name it. */
export function describePrincipal(principal: Principal): string {
  if (principal.kind === 'iam') return `IAM principal ${principal.tokenId}`;
  if (principal.kind === 'google') return `Google account ${principal.tokenId}`;
  return `token ${principal.tokenId}`;
}

export type TokenIndex = ReadonlyMap<string, TokenEntry>;

export function indexTokens(entries: readonly TokenEntry[]): TokenIndex {
  return new Map(entries.map((entry) => [entry.sha256, entry]));
}

export function hashToken(token: string): string {
  return crypto().createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new token: `cf_` + 43 base64url characters (256 random bits). */
export function generateToken(): string {
  return `cf_${crypto().randomBytes(32).toString('base64url')}`;
}

const BEARER = /^Bearer ([\x21-\x7e]{16,512})$/;

export function authenticate(authorization: string | undefined, tokens: TokenIndex): Principal {
  if (authorization === undefined || authorization === '') {
    throw new UnauthenticatedError('missing Authorization header: send "Authorization: Bearer <token>"');
  }
  const match = BEARER.exec(authorization.trim());
  if (!match) throw new UnauthenticatedError('Authorization header must be "Bearer <token>"');
  const entry = tokens.get(hashToken(match[1]!));
  if (!entry) throw new UnauthenticatedError('the bearer token is not valid');
  return { tokenId: entry.id, scopes: entry.scopes };
}

const PROXY_TOKEN = /^[\x21-\x7e]{16,512}$/;

/**
 * A proxy's token: Envoy's REST subscriptions cannot send headers, so a polling node carries its
 * token in `node.metadata.token` of every DiscoveryRequest (docs/dataplane.md, "Auth").
 */
export function authenticateProxy(token: unknown, tokens: TokenIndex): Principal {
  if (token === undefined || token === null || token === '') throw new UnauthenticatedError('missing node.metadata.token: put the proxy group\'s xds token in the Envoy bootstrap\'s node metadata');
  const entry = typeof token === 'string' && PROXY_TOKEN.test(token) ? tokens.get(hashToken(token)) : undefined;
  if (!entry) throw new UnauthenticatedError('node.metadata.token is not a valid token');
  return { tokenId: entry.id, scopes: entry.scopes };
}

export function requireXdsAccess(principal: Principal, group: string, nodeId: string): void {
  if (!allowsXds(principal.scopes, group)) {
    throw new ForbiddenError(`${describePrincipal(principal)} may not fetch the configuration of proxy group ${group} for node ${nodeId} (needs scope xds:${group})`, 'scope');
  }
}

export function requireAccess(principal: Principal, access: Access, service: string): void {
  if (!allows(principal.scopes, access, service)) {
    throw new ForbiddenError(`${describePrincipal(principal)} may not ${access} service ${service} (needs scope ${access}:${service} or admin)`, 'scope');
  }
}

export function requireAccessToEveryService(principal: Principal, access: Access): void {
  if (!allowsEveryService(principal.scopes, access)) {
    throw new ForbiddenError(`${describePrincipal(principal)} may not ${access} every service: name one with ?service=`, 'scope');
  }
}

/** For what only an operator may ask: `what` says it ("give steps[2].analysis.metrics: ..."). */
export function requireAdmin(principal: Principal, what: string, rule: string): void {
  if (!principal.scopes.some((scope) => scope.kind === 'admin')) throw new ForbiddenError(`${describePrincipal(principal)} may not ${what} (needs scope admin)`, rule);
}
