/**
 * AWS credentials for a function that runs as a Google service account, with no AWS key stored
 * anywhere: the metadata server signs an ID token for the service account (for `audience`), and
 * STS `AssumeRoleWithWebIdentity` trades it for the temporary credentials of a role whose trust
 * policy names that service account (docs/deploy-gcp.md "Keyless: an AWS role for the service
 * account").
 *
 * One provider is shared by every AWS client of a cold start. It keeps the credentials STS issued
 * and trades a fresh ID token (the last one may have expired: they live an hour) for new ones once
 * less than `refreshMarginMs` is left, before they expire; concurrent callers share one exchange.
 * The margin matches the SDK's own (its clients ask the provider again 5 minutes before
 * `expiration`), so a client never signs with credentials the provider would have replaced.
 * A failed exchange is not kept: the next call tries again.
 * The STS client and google-auth-library are imported with the first exchange, not at cold start.
 */
import type * as Sts from '@aws-sdk/client-sts';
import { CloudIdentityRefusedError, DependencyUnavailableError, InternalError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import { commonJs } from '../first-use-import.js';

export interface TemporaryAwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface GoogleWebIdentitySettings {
  roleArn: string;
  /** The ID token's `aud`; the role's trust policy may require it (`accounts.google.com:oaud`). */
  audience: string;
  /** RoleSessionName: what CloudTrail shows for every call made with these credentials. */
  sessionName: string;
  /** STS's region (its regional endpoint). */
  region: string;
  /** Another STS endpoint (tests: a fake on loopback). */
  stsEndpoint?: string;
  /** Default: the metadata server, through google-auth-library (GCE_METADATA_HOST moves it). */
  idToken?: (audience: string) => Promise<string>;
  clock: Clock;
  refreshMarginMs?: number;
}

export const SDK_REFRESH_MARGIN_MS = 5 * 60_000;

/** STS answers these when it refuses the token or the role, not when it is unwell. */
const REFUSALS = new Set([
  'AccessDenied', 'AccessDeniedException', 'InvalidIdentityToken', 'IDPRejectedClaim', 'ExpiredTokenException',
  'InvalidParameterValue', 'MalformedPolicyDocument', 'PackedPolicyTooLarge', 'RegionDisabledException', 'ValidationError',
]);

export function googleWebIdentityCredentials(settings: GoogleWebIdentitySettings): () => Promise<TemporaryAwsCredentials> {
  const margin = settings.refreshMarginMs ?? SDK_REFRESH_MARGIN_MS;
  const idToken = settings.idToken ?? metadataServerIdToken();
  let sts: Promise<{ client: Sts.STSClient; AssumeRoleWithWebIdentityCommand: typeof Sts.AssumeRoleWithWebIdentityCommand }> | undefined;
  const connect = () =>
    (sts ??= import('@aws-sdk/client-sts').then(commonJs).then(({ STSClient, AssumeRoleWithWebIdentityCommand }) => ({
      AssumeRoleWithWebIdentityCommand,
      client: new STSClient({ region: settings.region, endpoint: settings.stsEndpoint, maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } }),
    })));
  let current: TemporaryAwsCredentials | undefined;
  let exchange: Promise<TemporaryAwsCredentials> | undefined;

  async function exchangeToken(): Promise<TemporaryAwsCredentials> {
    let token: string;
    try {
      token = await idToken(settings.audience);
    } catch (error) {
      throw new DependencyUnavailableError('Google metadata server', `fetch an ID token for audience ${settings.audience}`, { cause: error });
    }
    const identity = identityOf(token);
    const { client, AssumeRoleWithWebIdentityCommand } = await connect();
    let answer;
    try {
      answer = await client.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: settings.roleArn, RoleSessionName: settings.sessionName, WebIdentityToken: token }));
    } catch (error) {
      throw stsFailure(error, settings.roleArn, identity);
    }
    const issued = answer.Credentials;
    if (!issued?.AccessKeyId || !issued.SecretAccessKey || !issued.SessionToken || !issued.Expiration) {
      throw new InternalError(`AWS STS answered AssumeRoleWithWebIdentity on ${settings.roleArn} without complete credentials`);
    }
    return { accessKeyId: issued.AccessKeyId, secretAccessKey: issued.SecretAccessKey, sessionToken: issued.SessionToken, expiration: issued.Expiration };
  }

  return async function credentialsOfGoogleIdentity() {
    if (current && current.expiration.getTime() - settings.clock.now().getTime() > margin) return current;
    exchange ??= exchangeToken()
      .then((issued) => (current = issued))
      .finally(() => (exchange = undefined));
    return exchange;
  };
}

/** The ID token of the instance's service account, from the metadata server (format=full: it carries the email). */
function metadataServerIdToken(): (audience: string) => Promise<string> {
  let compute: Promise<{ fetchIdToken(audience: string): Promise<string> }> | undefined;
  return async (audience) => {
    compute ??= import('google-auth-library').then(commonJs).then(({ Compute }) => new Compute());
    return (await compute).fetchIdToken(audience);
  };
}

/**
 * Who the token says we are, for error messages: the service account's email and unique id (the
 * `sub` a trust policy names). Read, not verified: STS verifies it.
 */
export function identityOf(token: string): string {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { email?: unknown; sub?: unknown };
    const sub = typeof claims.sub === 'string' ? claims.sub : 'unknown';
    return typeof claims.email === 'string' ? `Google identity ${claims.email} (unique id ${sub})` : `Google identity with unique id ${sub}`;
  } catch {
    return 'a Google identity whose token is not a JWT';
  }
}

function stsFailure(error: unknown, roleArn: string, identity: string): Error {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  if (REFUSALS.has(name) || (status !== undefined && status >= 400 && status < 500 && !/Throttl|TooMany|Limit/.test(name))) {
    return new CloudIdentityRefusedError(roleArn, identity, `${name}: ${message}`, { cause: error });
  }
  return new DependencyUnavailableError(`AWS STS (role ${roleArn})`, `AssumeRoleWithWebIdentity for ${identity}`, { cause: error, throttled: /Throttl/.test(name) });
}
