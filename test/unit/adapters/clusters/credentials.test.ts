/** Which credentials discovery may use, by where crossfade runs (shared/adapters/clusters/credentials.ts). */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleAuth } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { awsCredentialsFor, googleAuthFor, hostingOf, missingCredentials, NoCredentialSource } from '../../../../shared/adapters/clusters/credentials.js';
import { rejectionOf } from '../../../support/errors.js';

/** An environment with no credential source at all: a home without ~/.aws or gcloud. */
function bare(extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: mkdtempSync(join(tmpdir(), 'crossfade-home-')), ...extra };
}

describe('hostingOf', () => {
  it.each([
    [{ AWS_LAMBDA_FUNCTION_NAME: 'crossfade-services' }, 'aws-lambda'],
    [{ K_SERVICE: 'api', FUNCTION_TARGET: 'api' }, 'gcp-functions'],
    [{ HOME: '/home/me' }, 'elsewhere'],
  ])('%j: %s', (env, hosting) => {
    expect(hostingOf(env)).toBe(hosting);
  });
});

describe('awsCredentialsFor', () => {
  it("on Lambda: the SDK's default chain", () => {
    expect(awsCredentialsFor({ AWS_LAMBDA_FUNCTION_NAME: 'f' }, 'aws-lambda')).toBeUndefined();
  });

  it('keys in the environment', async () => {
    const provider = awsCredentialsFor(bare({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'session' }), 'elsewhere')!;
    expect(await provider()).toEqual({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' });
  });

  it('a profile of the shared credentials file, read by the SDK', async () => {
    const env = bare();
    mkdirSync(join(env['HOME']!, '.aws'));
    writeFileSync(join(env['HOME']!, '.aws', 'credentials'), '[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n[ops]\naws_access_key_id = AKIAOPS\naws_secret_access_key = s2\n');
    expect(await awsCredentialsFor(env, 'elsewhere')!()).toMatchObject({ accessKeyId: 'AKIADEFAULT', secretAccessKey: 's1' });
    // A named profile wins over keys in the environment, as in the SDK's chain.
    expect(await awsCredentialsFor({ ...env, AWS_PROFILE: 'ops', AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 's3' }, 'elsewhere')!()).toMatchObject({ accessKeyId: 'AKIAOPS' });
  });

  it('a profile that is not there: NoCredentialSource naming it', async () => {
    const error = await rejectionOf(awsCredentialsFor(bare({ AWS_PROFILE: 'nobody' }), 'elsewhere')!());
    expect(error).toBeInstanceOf(NoCredentialSource);
    expect(error).toMatchObject({ cloud: 'aws', detail: expect.stringMatching(/^profile "nobody": /) });
  });

  it('nothing configured: NoCredentialSource, looked for again at every call', async () => {
    const env = bare();
    const provider = awsCredentialsFor(env, 'elsewhere')!;
    expect(await rejectionOf(provider())).toMatchObject({ name: 'NoCredentialSource', cloud: 'aws', detail: undefined });
    mkdirSync(join(env['HOME']!, '.aws'));
    writeFileSync(join(env['HOME']!, '.aws', 'credentials'), '[default]\naws_access_key_id = AKIALATER\naws_secret_access_key = s\n');
    expect(await provider()).toMatchObject({ accessKeyId: 'AKIALATER' });
  });
});

describe('googleAuthFor', () => {
  it('on Cloud Functions: Application Default Credentials', () => {
    expect(googleAuthFor({ K_SERVICE: 'api' }, 'gcp-functions', [])).toBeUndefined();
  });

  it('GOOGLE_APPLICATION_CREDENTIALS, or gcloud application-default credentials: that file', () => {
    expect(googleAuthFor(bare({ GOOGLE_APPLICATION_CREDENTIALS: '/etc/crossfade/sa.json' }), 'elsewhere', [])).toBeInstanceOf(GoogleAuth);
    const gcloud = mkdtempSync(join(tmpdir(), 'crossfade-gcloud-'));
    writeFileSync(join(gcloud, 'application_default_credentials.json'), '{}');
    expect(googleAuthFor(bare({ CLOUDSDK_CONFIG: gcloud }), 'elsewhere', [])).toBeInstanceOf(GoogleAuth);
  });

  it('nothing configured: a token source that refuses with NoCredentialSource', async () => {
    const auth = googleAuthFor(bare(), 'elsewhere', [])!;
    expect(auth).not.toBeInstanceOf(GoogleAuth);
    expect(await rejectionOf(auth.getAccessToken())).toMatchObject({ name: 'NoCredentialSource', cloud: 'gcp' });
  });
});

describe('missingCredentials', () => {
  it('names the cluster, what failed, and what to set', () => {
    expect(missingCredentials('eks-use1', new NoCredentialSource('aws', 'profile "ops": not found')).message).toBe(
      'no AWS credentials for cluster eks-use1 (profile "ops": not found); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or give the endpoints explicitly',
    );
  });
});
