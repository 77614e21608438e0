/**
 * Which AWS credentials the GCP functions sign every AWS call with (DynamoDB, Step Functions,
 * CloudWatch, EKS), read once per cold start. docs/deploy-gcp.md describes both setups.
 *
 * Environment:
 *   CROSSFADE_AWS_ROLE_ARN           keyless: the role to assume with the function's Google identity
 *   CROSSFADE_AWS_AUDIENCE           the ID token's audience (default sts.amazonaws.com)
 *   CROSSFADE_AWS_ROLE_SESSION_NAME  the session name CloudTrail shows (default crossfade-gcp)
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (, AWS_SESSION_TOKEN)
 *                                    the fallback: a static key (from Secret Manager)
 *   AWS_ENDPOINT_URL_STS             another STS endpoint (tests)
 *
 * The role wins when both are set: a key left in the environment is never used beside it.
 */
import { ConfigError } from '../domain/errors.js';
import { systemClock } from '../adapters/system.js';
import { googleWebIdentityCredentials } from '../adapters/aws-federation/google-web-identity.js';
import type { AwsCredentialsProvider } from '../adapters/clusters/eks.js';
import { regionFromEnv } from './core.js';

export const ROLE_ARN_ENV = 'CROSSFADE_AWS_ROLE_ARN';
export const AUDIENCE_ENV = 'CROSSFADE_AWS_AUDIENCE';
export const SESSION_NAME_ENV = 'CROSSFADE_AWS_ROLE_SESSION_NAME';
export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';
export const DEFAULT_SESSION_NAME = 'crossfade-gcp';

/** IAM's rule for a role ARN, and STS's for RoleSessionName. */
export const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export function gcpAwsCredentials(env: Readonly<Record<string, string | undefined>>): AwsCredentialsProvider {
  const roleArn = env[ROLE_ARN_ENV];
  if (roleArn) {
    if (!ROLE_ARN_PATTERN.test(roleArn)) throw new ConfigError(`${ROLE_ARN_ENV} must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>), got ${JSON.stringify(roleArn)}`, ROLE_ARN_ENV);
    const sessionName = env[SESSION_NAME_ENV] || DEFAULT_SESSION_NAME;
    if (!SESSION_NAME.test(sessionName)) throw new ConfigError(`${SESSION_NAME_ENV} must be 2-64 letters, digits or _+=,.@-, got ${JSON.stringify(sessionName)}`, SESSION_NAME_ENV);
    const stsEndpoint = env['AWS_ENDPOINT_URL_STS'];
    return googleWebIdentityCredentials({
      roleArn,
      audience: env[AUDIENCE_ENV] || DEFAULT_AUDIENCE,
      sessionName,
      region: regionFromEnv(env),
      clock: systemClock,
      ...(stsEndpoint ? { stsEndpoint } : {}),
    });
  }
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId && secretAccessKey) {
    const sessionToken = env['AWS_SESSION_TOKEN'];
    const key = sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
    return () => Promise.resolve(key);
  }
  throw new ConfigError(
    `no AWS credentials for the GCP function: set ${ROLE_ARN_ENV} (keyless: a role that trusts the function's service account) or, as a fallback, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (docs/deploy-gcp.md)`,
    ROLE_ARN_ENV,
  );
}
