/**
 * Verifies a caller's presigned sts:GetCallerIdentity URL by sending it to STS and reading the ARN
 * STS answers (docs/direct-invocation.md). What makes this safe is what is refused before anything
 * is sent:
 * - any host but STS's own (`sts.amazonaws.com`, `sts.<region>.amazonaws.com[.cn]`, over https) or
 *   a configured endpoint: otherwise a caller presigns against a server of its own, which answers
 *   whatever ARN it likes;
 * - any action but GetCallerIdentity, and query parameters STS's presigned form does not have;
 * - a signature that does not cover `host` and `x-crossfade-id`: we send `x-crossfade-id` with our
 *   own audience, never the caller's, so a URL made for another crossfade, or an EKS token
 *   (`x-k8s-aws-id`), fails STS's signature check instead of being replayed here;
 * - validity beyond 15 minutes, an expired URL, or one signed in the future.
 * Redirects are not followed. STS answers JSON when asked (`Accept: application/json`), as
 * aws-iam-authenticator asks it.
 */
import { DependencyUnavailableError, InternalError, UnauthenticatedError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { AwsCallerIdentity } from '../../ports/caller-identity.js';

export const CROSSFADE_ID_HEADER = 'x-crossfade-id';
/** The longest a presigned identity is accepted, whatever X-Amz-Expires says (EKS's bound). */
export const MAX_PRESIGN_SECONDS = 900;
const CLOCK_SKEW_SECONDS = 300;
const MAX_URL_LENGTH = 4096;
const STS_HOST = /^sts(\.[a-z]{2}(-[a-z]+)+-\d)?\.amazonaws\.com(\.cn)?$/;
const SIGNED_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];
const ALLOWED_PARAMS = new Set(['Action', 'Version', 'X-Amz-Security-Token', ...SIGNED_PARAMS]);
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export interface StsCallerIdentitySettings {
  /** The `x-crossfade-id` value callers sign (crossfade.yaml identity.aws.audience). */
  audience: string;
  /** Origins accepted besides STS's own hosts (identity.aws.stsEndpoints). */
  stsEndpoints: readonly string[];
  clock: Clock;
  /** For the one call to STS. */
  timeoutMs?: number;
}

export function createStsCallerIdentity(settings: StsCallerIdentitySettings): AwsCallerIdentity {
  const extraOrigins = new Set(settings.stsEndpoints.map((endpoint) => new URL(endpoint).origin));
  return {
    async arnOf(presignedUrl) {
      const url = checkedUrl(presignedUrl, extraOrigins, settings.clock.now());
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { [CROSSFADE_ID_HEADER]: settings.audience, accept: 'application/json' },
          redirect: 'manual',
          signal: AbortSignal.timeout(settings.timeoutMs ?? 5_000),
        });
      } catch (error) {
        throw new DependencyUnavailableError(`STS at ${url.host}`, 'GetCallerIdentity', { cause: error });
      }
      const text = await response.text().catch(() => '');
      if (response.status >= 500 || response.status === 429) {
        throw new DependencyUnavailableError(`STS at ${url.host}`, 'GetCallerIdentity', { cause: new Error(`HTTP ${response.status}`), throttled: response.status === 429 });
      }
      if (response.status !== 200) throw new UnauthenticatedError(`STS refused the presigned GetCallerIdentity (${errorCodeOf(text) ?? `HTTP ${response.status}`})`);
      return arnFrom(text, url.host);
    },
  };
}

function refuse(rule: string): never {
  throw new UnauthenticatedError(`the presigned sts:GetCallerIdentity URL ${rule}`);
}

function checkedUrl(text: string, extraOrigins: ReadonlySet<string>, now: Date): URL {
  if (text.length > MAX_URL_LENGTH) refuse(`is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('is not a URL');
  }
  const stsItself = url.protocol === 'https:' && url.port === '' && STS_HOST.test(url.hostname);
  if (url.username || url.password || !(stsItself || extraOrigins.has(url.origin))) refuse(`must go to STS (https://sts.<region>.amazonaws.com), not ${url.host}`);
  if (url.pathname !== '/' || url.hash) refuse('must have the path "/"');
  const names = [...url.searchParams.keys()];
  if (new Set(names).size !== names.length || names.some((name) => !ALLOWED_PARAMS.has(name))) refuse('has query parameters a presigned GetCallerIdentity has not');
  const param = (name: string) => url.searchParams.get(name) ?? '';
  if (param('Action') !== 'GetCallerIdentity' || param('Version') !== '2011-06-15') refuse('must ask Action=GetCallerIdentity&Version=2011-06-15');
  if (SIGNED_PARAMS.some((name) => !url.searchParams.has(name)) || param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') refuse('is not presigned with SigV4');
  if (param('X-Amz-SignedHeaders') !== `host;${CROSSFADE_ID_HEADER}`) refuse(`must sign exactly the headers host and ${CROSSFADE_ID_HEADER}`);
  const signedAt = parseAmzDate(param('X-Amz-Date'));
  const expires = Number(param('X-Amz-Expires'));
  if (signedAt === undefined || !Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) refuse(`must have an X-Amz-Date and an X-Amz-Expires of 1 to ${MAX_PRESIGN_SECONDS} seconds`);
  const ageSeconds = (now.getTime() - signedAt.getTime()) / 1000;
  if (ageSeconds < -CLOCK_SKEW_SECONDS) refuse('is signed in the future');
  if (ageSeconds > expires) refuse('has expired: presign a new one');
  return url;
}

function parseAmzDate(text: string): Date | undefined {
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function arnFrom(text: string, host: string): string {
  let arn: unknown;
  try {
    const document = JSON.parse(text) as { GetCallerIdentityResponse?: { GetCallerIdentityResult?: { Arn?: unknown } } };
    arn = document.GetCallerIdentityResponse?.GetCallerIdentityResult?.Arn;
  } catch {
    arn = undefined;
  }
  if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\x21-\x7e]{1,1024}$/.test(arn)) {
    throw new InternalError(`STS at ${host} answered GetCallerIdentity without an ARN`);
  }
  return arn;
}

/** STS's error code (SignatureDoesNotMatch, ExpiredToken, InvalidClientTokenId ...), JSON or XML. */
function errorCodeOf(text: string): string | undefined {
  const code = /"Code"\s*:\s*"([A-Za-z.]{1,64})"/.exec(text) ?? /<Code>([A-Za-z.]{1,64})<\/Code>/.exec(text);
  return code?.[1];
}
