/**
 * Signing secrets named in crossfade.yaml (domain/policy/external.ts `SecretReference`): from the
 * environment, read once at start (a missing variable stops the start naming its key), or from AWS
 * Secrets Manager, fetched on first use and kept for the life of the process (one read per cold
 * start). A failed fetch is not kept: the next use tries again. The SDK is imported with that first
 * fetch, so a cold start with no secret to read does not load it.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialsProvider } from '../clusters/eks.js';
import { ConfigError, DependencyUnavailableError } from '../../domain/errors.js';
import type { SecretReference } from '../../domain/policy/external.js';
import { commonJs, loadedOnFirstUse } from '../first-use-import.js';

export type SecretSource = () => Promise<string>;

export interface SecretSourceOptions {
  env: Record<string, string | undefined>;
  /** The Secrets Manager client, built once by the caller when some reference needs it. */
  secretsManager: () => Promise<SecretsManagerClient>;
}

/** @param key the reference's key in crossfade.yaml (`policy.external[0].secret`), named in errors. */
export function secretSourceOf(reference: SecretReference, key: string, options: SecretSourceOptions): SecretSource {
  if ('env' in reference) {
    const value = options.env[reference.env];
    if (value === undefined || value === '') throw new ConfigError(`${key}.env: environment variable ${reference.env} is not set (it holds the signing secret)`, `${key}.env`);
    return () => Promise.resolve(value);
  }
  return loadedOnFirstUse(() => readSecret(options.secretsManager, reference.awsSecretsManager));
}

async function readSecret(secretsManager: () => Promise<SecretsManagerClient>, secretId: string): Promise<string> {
  let value: string | undefined;
  try {
    const [client, { GetSecretValueCommand }] = await Promise.all([secretsManager(), import('@aws-sdk/client-secrets-manager').then(commonJs)]);
    const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    value = answer.SecretString ?? (answer.SecretBinary ? Buffer.from(answer.SecretBinary).toString('utf8') : undefined);
  } catch (error) {
    throw new DependencyUnavailableError(`Secrets Manager secret ${secretId}`, 'GetSecretValue', { cause: error });
  }
  if (!value) throw new DependencyUnavailableError(`Secrets Manager secret ${secretId}`, 'GetSecretValue (the secret has no value)');
  return value;
}

/** A Secrets Manager client; `endpoint` for a local fake (AWS_ENDPOINT_URL_SECRETS_MANAGER). */
export async function secretsManagerClient(options: { region: string; endpoint?: string | undefined; credentials?: AwsCredentialsProvider | undefined }): Promise<SecretsManagerClient> {
  const { SecretsManagerClient } = commonJs(await import('@aws-sdk/client-secrets-manager'));
  return new SecretsManagerClient({ region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}), ...(options.credentials ? { credentials: options.credentials } : {}) });
}
