/**
 * Who a caller is, proved by its cloud rather than by a crossfade token (docs/direct-invocation.md).
 * Two optional capabilities, each its own interface; an entry point that has neither accepts
 * crossfade tokens only.
 *
 * Contract for both:
 * - A read: idempotent, safe to repeat; nothing is written.
 * - A proof that is malformed, expired, made for another audience, or refused by the cloud:
 *   UnauthenticatedError saying which rule it broke (never the proof itself, which is a credential).
 * - The cloud unreachable or failing (5xx, timeout): DependencyUnavailableError naming it.
 * - The answer names the identity only; mapping it to scopes is crossfade.yaml's (domain/principals.ts).
 */

export interface AwsCallerIdentity {
  /**
   * Sends a presigned `sts:GetCallerIdentity` URL to STS — only when its host is STS's own or a
   * configured endpoint, and its signature covers the `x-crossfade-id` header the adapter sends
   * with its own audience — and answers the ARN STS names.
   */
  arnOf(presignedUrl: string): Promise<string>;
}

export interface GoogleCallerIdentity {
  /**
   * Verifies a Google-signed ID token (signature against Google's published keys, issuer, the
   * configured audience, expiry) and answers its verified `email`.
   */
  emailOf(idToken: string): Promise<string>;
}

export interface CallerIdentities {
  aws?: AwsCallerIdentity;
  google?: GoogleCallerIdentity;
}
