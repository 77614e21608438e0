/**
 * Cloud identities as callers (docs/direct-invocation.md): an IAM principal proved by a presigned
 * sts:GetCallerIdentity, a Google account proved by a Google-signed ID token, each mapped to scopes
 * by crossfade.yaml `iamPrincipals` / `googlePrincipals`. Pure: the proofs are checked by adapters.
 *
 * ARNs are matched exactly, never as globs: an ARN pattern such as `arn:aws:iam::*:role/deploy*`
 * would grant scopes to roles anyone with iam:CreateRole in any account can name, and IAM already
 * decides who may invoke; a grant here should name the one role or user it trusts. The one
 * equivalence is the one STS itself makes: an assumed-role session
 * `arn:aws:sts::<account>:assumed-role/<role>/<session>` is its role `arn:aws:iam::<account>:role/<role>`
 * (STS drops the role's path, and role names are unique in an account whatever their path).
 */
import * as z from 'zod/mini';
import { parseScope, type Scope } from './scopes.js';

export const scopeList = z
  .array(z.string().check(z.refine((scope) => parseScope(scope) !== undefined, 'must be admin, deploy:<service-glob>, read:<service-glob> or xds:<proxy-group-glob>')))
  .check(z.minLength(1, 'must list at least one scope'));

const NAME = '[\\w+=,.@-]{1,128}';
const ROLE_ARN = new RegExp(`^arn:(aws[a-z-]*):iam::(\\d{12}):role/(?:[\\x21-\\x7e]{0,510}/)?(${NAME})$`);
const SESSION_ARN = new RegExp(`^arn:(aws[a-z-]*):sts::(\\d{12}):assumed-role/(${NAME})/(${NAME})$`);
const USER_ARN = new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:user/(?:[\\x21-\\x7e]{0,510}/)?${NAME}$`);

export const IAM_ARN_RULE = 'must be an IAM role or user ARN (arn:aws:iam::<account>:role/<name>, arn:aws:iam::<account>:user/<name>) or an assumed-role session ARN';

export function isIamArn(text: string): boolean {
  return ROLE_ARN.test(text) || SESSION_ARN.test(text) || USER_ARN.test(text);
}

const iamPrincipal = z.strictObject({
  /** A role (its sessions match), a user, or one assumed-role session; exact, no globs. */
  arn: z.string().check(z.refine(isIamArn, IAM_ARN_RULE)),
  scopes: scopeList,
});

const googlePrincipal = z.strictObject({
  /** A service account's (or user's) verified email, as the ID token's `email` claim carries it. */
  email: z.string().check(z.regex(/^[^\s@]{1,64}@[^\s@]{1,255}$/, 'must be an email address')),
  scopes: scopeList,
});

export const DEFAULT_STS_AUDIENCE = 'crossfade';
export const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';

const identity = z.strictObject({
  aws: z._default(
    z.strictObject({
      /** The value of the signed `x-crossfade-id` header: a proof made for another crossfade (or for EKS) is refused. */
      audience: z._default(z.string().check(z.regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 letters, digits, ".", "_" or "-"')), DEFAULT_STS_AUDIENCE),
      /** STS endpoints accepted besides sts.amazonaws.com and sts.<region>.amazonaws.com: a VPC endpoint (PrivateLink), or a test's fake. */
      stsEndpoints: z._default(z.array(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })), []),
    }),
    { audience: DEFAULT_STS_AUDIENCE, stsEndpoints: [] },
  ),
  google: z.optional(
    z.strictObject({
      /** The ID token's `aud`: the Cloud Function's URL, exactly as callers request tokens for it. */
      audience: z.url({ protocol: /^https?$/, error: 'must be the function URL' }),
      /** Where Google's signing keys (JWKS) are published. */
      certsUrl: z._default(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }), GOOGLE_JWKS_URL),
    }),
  ),
});

export const principalKeys = {
  identity: z._default(identity, { aws: { audience: DEFAULT_STS_AUDIENCE, stsEndpoints: [] } }),
  iamPrincipals: z._default(z.array(iamPrincipal), []),
  googlePrincipals: z._default(z.array(googlePrincipal), []),
};

export type IdentityConfig = z.infer<typeof identity>;
export type IamPrincipalConfig = z.infer<typeof iamPrincipal>;
export type GooglePrincipalConfig = z.infer<typeof googlePrincipal>;

/** The role ARN a caller ARN stands for (a session is its role), or the ARN itself. */
export function canonicalIamArn(arn: string): string {
  const session = SESSION_ARN.exec(arn);
  if (session) return `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
  const role = ROLE_ARN.exec(arn);
  if (role) return `arn:${role[1]}:iam::${role[2]}:role/${role[3]}`;
  return arn;
}

/**
 * The scopes of a caller STS named: the union of every entry naming it exactly, or its role.
 * Undefined when no entry does (the caller is authenticated, not authorized: 403).
 */
export function scopesOfIamCaller(callerArn: string, entries: readonly IamPrincipalConfig[]): Scope[] | undefined {
  const role = canonicalIamArn(callerArn);
  const matching = entries.filter((entry) => entry.arn === callerArn || (!SESSION_ARN.test(entry.arn) && canonicalIamArn(entry.arn) === role));
  return matching.length === 0 ? undefined : matching.flatMap((entry) => entry.scopes.map((s) => parseScope(s)!));
}

/** Emails compare case-insensitively, as Google treats them. */
export function scopesOfGoogleCaller(email: string, entries: readonly GooglePrincipalConfig[]): Scope[] | undefined {
  const matching = entries.filter((entry) => entry.email.toLowerCase() === email.toLowerCase());
  return matching.length === 0 ? undefined : matching.flatMap((entry) => entry.scopes.map((s) => parseScope(s)!));
}
