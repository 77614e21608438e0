/**
 * Which AWS credentials the GCP functions sign with, from their environment
 * (shared/runtime/gcp-aws-credentials.ts). The keyless exchange itself is tested against fakes in
 * test/integration/google-web-identity.test.ts and gcp-keyless-identity.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/domain/errors.js';
import { gcpAwsCredentials } from '../../../shared/runtime/gcp-aws-credentials.js';

const ROLE = 'arn:aws:iam::123456789012:role/crossfade-gcp';

function refusal(env: Record<string, string>): ConfigError {
  try {
    gcpAwsCredentials(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the GCP functions’ AWS credentials', () => {
  it('neither a role nor a key: a startup error naming both', () => {
    const error = refusal({ AWS_REGION: 'us-east-1' });
    expect(error.message).toBe(
      "no AWS credentials for the GCP function: set CROSSFADE_AWS_ROLE_ARN (keyless: a role that trusts the function's service account) or, as a fallback, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (docs/deploy-gcp.md)",
    );
    expect(error.key).toBe('CROSSFADE_AWS_ROLE_ARN');
    // Half a key is no key.
    expect(refusal({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' }).key).toBe('CROSSFADE_AWS_ROLE_ARN');
  });

  it('the static key, the documented fallback, is used as given', async () => {
    await expect(gcpAwsCredentials({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' })()).resolves.toEqual({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' });
    await expect(gcpAwsCredentials({ AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'session' })()).resolves.toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'session',
    });
  });

  it('a role ARN or session name that STS would refuse is named at startup', () => {
    expect(refusal({ CROSSFADE_AWS_ROLE_ARN: 'crossfade-gcp' })).toMatchObject({
      key: 'CROSSFADE_AWS_ROLE_ARN',
      message: 'CROSSFADE_AWS_ROLE_ARN must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>), got "crossfade-gcp"',
    });
    expect(refusal({ CROSSFADE_AWS_ROLE_ARN: 'arn:aws:iam::123456789012:user/ci' }).key).toBe('CROSSFADE_AWS_ROLE_ARN');
    expect(refusal({ CROSSFADE_AWS_ROLE_ARN: ROLE, CROSSFADE_AWS_ROLE_SESSION_NAME: 'has spaces' })).toMatchObject({
      key: 'CROSSFADE_AWS_ROLE_SESSION_NAME',
      message: 'CROSSFADE_AWS_ROLE_SESSION_NAME must be 2-64 letters, digits or _+=,.@-, got "has spaces"',
    });
  });

  it('accepts role ARNs of every partition, with paths (a key beside a role is left unused: gcp-keyless-identity.test.ts)', () => {
    for (const roleArn of [ROLE, 'arn:aws-us-gov:iam::123456789012:role/path/crossfade', 'arn:aws-cn:iam::123456789012:role/crossfade+gcp@x']) {
      expect(() => gcpAwsCredentials({ CROSSFADE_AWS_ROLE_ARN: roleArn })).not.toThrow();
    }
  });
});
