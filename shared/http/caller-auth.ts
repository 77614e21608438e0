/**
 * Who is calling, whatever proves it (docs/api.md "Auth", docs/direct-invocation.md): the bearer in
 * `Authorization: Bearer <x>` is
 * - `crossfade-aws-v1.<base64url of a presigned sts:GetCallerIdentity URL>`: an IAM principal,
 *   mapped by crossfade.yaml `iamPrincipals` (a Lambda Invoke's `identity.sts` arrives as this);
 * - a crossfade token, when its hash is configured;
 * - else a JWT: a Google-signed ID token, mapped by `googlePrincipals` by its verified email.
 * A proof that does not verify is 401; a verified identity that no entry maps is 403. The
 * principal's id (the actor in the audit trail) is the ARN STS named or the email.
 */
import { ForbiddenError, UnauthenticatedError } from '../domain/errors.js';
import { scopesOfGoogleCaller, scopesOfIamCaller, type GooglePrincipalConfig, type IamPrincipalConfig } from '../domain/principals.js';
import type { AwsCallerIdentity, GoogleCallerIdentity } from '../ports/caller-identity.js';
import { authenticate, type Principal, type TokenIndex } from './auth.js';

export const STS_BEARER_PREFIX = 'crossfade-aws-v1.';

/** The cloud identities an entry point accepts, each with its mapping to scopes. */
export interface CallerAuth {
  aws?: { identity: AwsCallerIdentity; principals: readonly IamPrincipalConfig[] };
  google?: { identity: GoogleCallerIdentity; principals: readonly GooglePrincipalConfig[] };
}

const BEARER = /^Bearer ([\x21-\x7e]{16,8192})$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function stsBearer(presignedUrl: string): string {
  return STS_BEARER_PREFIX + Buffer.from(presignedUrl, 'utf8').toString('base64url');
}

export async function authenticateCaller(authorization: string | undefined, tokens: TokenIndex, callers: CallerAuth | undefined): Promise<Principal> {
  const bearer = BEARER.exec(authorization?.trim() ?? '')?.[1];
  if (bearer?.startsWith(STS_BEARER_PREFIX)) return iamCaller(bearer.slice(STS_BEARER_PREFIX.length), callers?.aws);
  // crossfade tokens are at most 512 characters; an RS256 ID token's signature alone is 342.
  if (bearer !== undefined && bearer.length > 512 && JWT.test(bearer)) return googleCaller(bearer, callers?.google);
  return authenticate(authorization, tokens);
}

async function iamCaller(encoded: string, aws: CallerAuth['aws']): Promise<Principal> {
  if (aws === undefined || aws.principals.length === 0) throw new UnauthenticatedError('IAM identities are not accepted here: crossfade.yaml iamPrincipals is empty');
  const arn = await aws.identity.arnOf(Buffer.from(encoded, 'base64url').toString('utf8'));
  const scopes = scopesOfIamCaller(arn, aws.principals);
  if (scopes === undefined) throw new ForbiddenError(`IAM principal ${arn} is not in crossfade.yaml iamPrincipals (neither it nor its role is listed)`, 'iam-principal');
  return { tokenId: arn, scopes, kind: 'iam' };
}

async function googleCaller(idToken: string, google: CallerAuth['google']): Promise<Principal> {
  if (google === undefined || google.principals.length === 0) throw new UnauthenticatedError('Google ID tokens are not accepted here: crossfade.yaml googlePrincipals is empty');
  const email = await google.identity.emailOf(idToken);
  const scopes = scopesOfGoogleCaller(email, google.principals);
  if (scopes === undefined) throw new ForbiddenError(`Google account ${email} is not in crossfade.yaml googlePrincipals`, 'google-principal');
  return { tokenId: email, scopes, kind: 'google' };
}
