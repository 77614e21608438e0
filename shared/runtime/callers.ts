/** The cloud identities an entry point accepts (docs/direct-invocation.md), from crossfade.yaml. */
import type { CrossfadeConfig } from '../domain/config.js';
import type { CallerAuth } from '../http/caller-auth.js';
import type { Clock } from '../ports/clock.js';
import { createGoogleIdTokenVerifier } from '../adapters/identity/google-id-token.js';
import { createStsCallerIdentity } from '../adapters/identity/sts-caller-identity.js';

/** Only what crossfade.yaml maps: with no iamPrincipals nobody can make this function call STS. */
export function callerAuthOf(config: CrossfadeConfig, clock: Clock): CallerAuth | undefined {
  const { aws, google } = config.identity;
  const callers: CallerAuth = {
    ...(config.iamPrincipals.length > 0 ? { aws: { identity: createStsCallerIdentity({ ...aws, clock }), principals: config.iamPrincipals } } : {}),
    ...(config.googlePrincipals.length > 0 && google ? { google: { identity: createGoogleIdTokenVerifier({ ...google, clock }), principals: config.googlePrincipals } } : {}),
  };
  return callers.aws || callers.google ? callers : undefined;
}
