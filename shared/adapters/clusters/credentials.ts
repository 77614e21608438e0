/**
 * Which credentials discovery may use, by where crossfade runs. A cloud's metadata server is asked
 * only on that cloud's own functions: elsewhere (npm start on a laptop, or the other cloud) the
 * SDKs' default chains would end at 169.254.169.254, which at best times out and at worst answers
 * for whatever instance the machine is. So outside its cloud each SDK gets explicit sources only,
 * and with none configured discovery fails at once, saying what to set, before any connection.
 *
 * - AWS, outside Lambda: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); else a
 *   profile (AWS_PROFILE, or `default` when ~/.aws/credentials or ~/.aws/config exists); else a
 *   web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN).
 * - Google, outside Cloud Functions: GOOGLE_APPLICATION_CREDENTIALS; else gcloud's
 *   application-default credentials file.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GoogleAuth } from 'google-auth-library';
import { MissingCredentialsError } from '../../domain/errors.js';
import type { AwsCredentials, AwsCredentialsProvider } from './eks.js';
import { commonJs } from '../first-use-import.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Where crossfade runs: which metadata server, if any, is its own. */
export type Hosting = 'aws-lambda' | 'gcp-functions' | 'elsewhere';

/** Lambda sets AWS_LAMBDA_FUNCTION_NAME; Cloud Functions (on Cloud Run) set K_SERVICE and FUNCTION_TARGET. */
export function hostingOf(env: Env): Hosting {
  if (env['AWS_LAMBDA_FUNCTION_NAME']) return 'aws-lambda';
  if (env['K_SERVICE'] || env['FUNCTION_TARGET']) return 'gcp-functions';
  return 'elsewhere';
}

/** No credential source is configured for `cloud`: the cluster adapters turn it into MissingCredentialsError. */
export class NoCredentialSource extends Error {
  override readonly name = 'NoCredentialSource';
  constructor(
    readonly cloud: 'aws' | 'gcp',
    readonly detail?: string,
  ) {
    super(`no ${cloud === 'aws' ? 'AWS' : 'Google'} credentials${detail ? ` (${detail})` : ''}`);
  }
}

const WHAT_TO_SET = {
  aws: 'set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or give the endpoints explicitly',
  gcp: 'set GOOGLE_APPLICATION_CREDENTIALS (or run gcloud auth application-default login), or give the endpoints explicitly',
} as const;

/** `source` as the error a caller gets for `cluster`, saying what to set. */
export function missingCredentials(cluster: string, source: NoCredentialSource): MissingCredentialsError {
  const cloud = source.cloud === 'aws' ? 'AWS' : 'Google';
  return new MissingCredentialsError(cluster, `no ${cloud} credentials for cluster ${cluster}${source.detail ? ` (${source.detail})` : ''}; ${WHAT_TO_SET[source.cloud]}`, { cause: source });
}

/**
 * undefined: the SDK's default chain (on Lambda: the function's role, from its environment).
 * Elsewhere the sources are looked for at each call (the SDK keeps what a call returns until it
 * expires), so credentials configured after the start are found.
 */
export function awsCredentialsFor(env: Env, hosting: Hosting): AwsCredentialsProvider | undefined {
  if (hosting === 'aws-lambda') return undefined;
  return () => explicitAwsCredentials(env);
}

async function explicitAwsCredentials(env: Env): Promise<AwsCredentials> {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  const profile = env['AWS_PROFILE'];
  // As the SDK's chain: a named profile wins over keys in the environment.
  if (!profile && accessKeyId && secretAccessKey) {
    const sessionToken = env['AWS_SESSION_TOKEN'];
    return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
  }
  const filepath = env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(homeOf(env), '.aws', 'credentials');
  const configFilepath = env['AWS_CONFIG_FILE'] ?? join(homeOf(env), '.aws', 'config');
  if (profile || existsSync(filepath) || existsSync(configFilepath)) {
    const name = profile ?? 'default';
    const { fromIni } = commonJs(await import('@aws-sdk/credential-providers'));
    try {
      return await fromIni({ profile: name, filepath, configFilepath })();
    } catch (error) {
      throw new NoCredentialSource('aws', `profile "${name}": ${(error as Error).message}`);
    }
  }
  const webIdentityTokenFile = env['AWS_WEB_IDENTITY_TOKEN_FILE'];
  const roleArn = env['AWS_ROLE_ARN'];
  if (webIdentityTokenFile && roleArn) {
    const { fromTokenFile } = commonJs(await import('@aws-sdk/credential-providers'));
    return fromTokenFile({ webIdentityTokenFile, roleArn, roleSessionName: env['AWS_ROLE_SESSION_NAME'] ?? 'crossfade' })();
  }
  throw new NoCredentialSource('aws');
}

/** What gke.ts asks a token of when no Google credentials are configured: it never reaches a client. */
export interface MissingGoogleCredentials {
  getAccessToken(): Promise<never>;
}

/**
 * undefined: Application Default Credentials (on Cloud Functions: the function's service account,
 * from the metadata server). Elsewhere the key file is looked for once, when discovery is built.
 */
export function googleAuthFor(env: Env, hosting: Hosting, scopes: string[]): GoogleAuth | MissingGoogleCredentials | undefined {
  if (hosting === 'gcp-functions') return undefined;
  const keyFilename = env['GOOGLE_APPLICATION_CREDENTIALS'] || [gcloudApplicationDefaultFile(env)].find((file) => existsSync(file));
  // A key file names its own kind (service account, user, workload identity federation): no probing.
  if (keyFilename) return new GoogleAuth({ keyFilename, scopes });
  const missing: MissingGoogleCredentials = { getAccessToken: () => Promise.reject(new NoCredentialSource('gcp')) };
  return missing;
}

/** Where `gcloud auth application-default login` writes (CLOUDSDK_CONFIG moves gcloud's directory). */
function gcloudApplicationDefaultFile(env: Env): string {
  const configDir = env['CLOUDSDK_CONFIG'] ?? (process.platform === 'win32' && env['APPDATA'] ? join(env['APPDATA'], 'gcloud') : join(homeOf(env), '.config', 'gcloud'));
  return join(configDir, 'application_default_credentials.json');
}

function homeOf(env: Env): string {
  return env['HOME'] || homedir();
}
