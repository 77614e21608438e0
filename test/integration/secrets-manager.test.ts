/**
 * Signing secrets (shared/adapters/secrets/secret-source.ts) through the real
 * @aws-sdk/client-secrets-manager against a fake Secrets Manager on loopback: a secret is read on
 * first use and kept (one GetSecretValue however often it is used); a failed read is not kept, so
 * the next use tries again; an environment secret is read at start and a missing variable is a
 * ConfigError naming its key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretSourceOf, secretsManagerClient } from '../../shared/adapters/secrets/secret-source.js';
import { ConfigError, DependencyUnavailableError } from '../../shared/domain/errors.js';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/fake-clouds/secrets-manager.js';
import { rejectionOf } from '../support/errors.js';

let fake: FakeSecretsManager;

beforeAll(async () => {
  fake = await startFakeSecretsManager();
});

afterAll(async () => {
  await fake?.stop();
});

function client() {
  const credentials = () => Promise.resolve({ accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fakesecretfakesecret' });
  return secretsManagerClient({ region: 'us-east-1', endpoint: fake.endpoint, credentials });
}

describe('a Secrets Manager secret', () => {
  it('is read once, on first use, and kept', async () => {
    fake.put('crossfade/rules', 's3cret-from-sm');
    let built = 0;
    const source = secretSourceOf({ awsSecretsManager: 'crossfade/rules' }, 'policy.external[0].secret', { env: {}, secretsManager: () => (built++, client()) });
    expect(fake.reads.filter((id) => id === 'crossfade/rules')).toEqual([]);

    const values = await Promise.all([source(), source(), source()]);
    expect(await source()).toBe('s3cret-from-sm');

    expect(values).toEqual(['s3cret-from-sm', 's3cret-from-sm', 's3cret-from-sm']);
    expect(fake.reads.filter((id) => id === 'crossfade/rules')).toEqual(['crossfade/rules']);
    expect(built).toBe(1);
  });

  it('a failed read is DependencyUnavailableError naming the secret, and is tried again on next use', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:later-AbCdEf';
    const source = secretSourceOf({ awsSecretsManager: arn }, 'policy.external[0].secret', { env: {}, secretsManager: client });

    const error = await rejectionOf(source());
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toContain(arn);
    expect((error as Error).message).toContain('ResourceNotFoundException');

    fake.put(arn, 'now-there');
    expect(await source()).toBe('now-there');
    expect(fake.reads.filter((id) => id === arn)).toHaveLength(2);
  });
});

describe('an environment secret', () => {
  it('is read at start; a missing variable is a ConfigError naming the key', async () => {
    const source = secretSourceOf({ env: 'RULES_SECRET' }, 'policy.external[2].secret', { env: { RULES_SECRET: 'from-env' }, secretsManager: client });
    expect(await source()).toBe('from-env');

    const missing = (() => {
      try {
        secretSourceOf({ env: 'RULES_SECRET' }, 'policy.external[2].secret', { env: {}, secretsManager: client });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing).toMatchObject({ key: 'policy.external[2].secret.env', message: expect.stringContaining('RULES_SECRET is not set') });
  });
});
