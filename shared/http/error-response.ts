/**
 * The one error → HTTP mapping (docs/api.md "Common rules"). Keyed by the error's stable `name`.
 * Anything that is not a CrossfadeError is a bug: 500 with a generic message, details in the log.
 * A failure of a dependency names the dependency and the verb, never its address or the underlying
 * error (`connect ECONNREFUSED 10.0.0.7:8000`): those stay in the log, which gets the whole error.
 */
import {
  ConflictError,
  CrossfadeError,
  DependencyUnavailableError,
  ForbiddenError,
  PayloadTooLargeError,
  PolicyDeniedError,
  UnsupportedCharsetError,
  ValidationError,
} from '../domain/errors.js';

export interface ErrorBody {
  error: { code: string; message: string; field?: string; rule?: string; holder?: string; verdicts?: PolicyDeniedError['denied'] };
}

export interface MappedError {
  statusCode: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

const statusByName: Record<string, { statusCode: number; code: string }> = {
  ValidationError: { statusCode: 400, code: 'VALIDATION_FAILED' },
  PayloadTooLargeError: { statusCode: 400, code: 'PAYLOAD_TOO_LARGE' },
  UnsupportedCharsetError: { statusCode: 415, code: 'UNSUPPORTED_CHARSET' },
  UnauthenticatedError: { statusCode: 401, code: 'UNAUTHENTICATED' },
  ForbiddenError: { statusCode: 403, code: 'FORBIDDEN' },
  // A business rule refuses (a freeze, a cap): the caller may ask again once it allows.
  PolicyDeniedError: { statusCode: 403, code: 'POLICY_DENIED' },
  NotFoundError: { statusCode: 404, code: 'NOT_FOUND' },
  ConflictError: { statusCode: 409, code: 'CONFLICT' },
  AlreadyExistsError: { statusCode: 409, code: 'CONFLICT' },
  LockLostError: { statusCode: 409, code: 'LOCK_LOST' },
  // A lost optimistic-lock race that survived the use case's own retries: the caller may retry.
  VersionConflictError: { statusCode: 503, code: 'BUSY' },
  IdempotencyKeyReusedError: { statusCode: 422, code: 'IDEMPOTENCY_KEY_REUSED' },
  // The stage was canceled before its create arrived: a 4xx, so Spinnaker does not re-POST it.
  IdempotencyKeyCanceledError: { statusCode: 409, code: 'IDEMPOTENCY_KEY_CANCELED' },
  DependencyUnavailableError: { statusCode: 503, code: 'UNAVAILABLE' },
  // Our credentials were refused by a cluster's or a cloud's API: a fault upstream, not the caller's.
  ClusterAuthError: { statusCode: 502, code: 'CLUSTER_AUTH_FAILED' },
  // No credentials configured for a cluster's cloud: the caller can send the endpoints instead.
  MissingCredentialsError: { statusCode: 422, code: 'CLUSTER_CREDENTIALS_MISSING' },
  // The cloud refused crossfade's own identity (its role's trust policy): a fault upstream, not the caller's.
  CloudIdentityRefusedError: { statusCode: 502, code: 'CLOUD_IDENTITY_REFUSED' },
  // A proxy refused a change (its configuration must change first): upstream, not the caller's.
  ProxyCommandError: { statusCode: 502, code: 'PROXY_REFUSED' },
  NotConvergedError: { statusCode: 503, code: 'NOT_CONVERGED' },
};

export function mapError(error: unknown): MappedError {
  const known = error instanceof CrossfadeError ? statusByName[error.name] : undefined;
  if (!known || !(error instanceof CrossfadeError)) {
    return { statusCode: 500, body: { error: { code: 'INTERNAL', message: 'internal error; see the logs for the request id' } }, headers: {} };
  }
  const body: ErrorBody = { error: { code: known.code, message: callerMessage(error, known.statusCode) } };
  const headers: Record<string, string> = {};
  if (error instanceof ValidationError) {
    if (error.field !== undefined) body.error.field = error.field;
    if (error.rule !== undefined) body.error.rule = error.rule;
  }
  if (error instanceof ForbiddenError) body.error.rule = error.rule;
  if (error instanceof PolicyDeniedError) body.error.verdicts = error.denied;
  if (error instanceof ConflictError && error.holder !== undefined) body.error.holder = error.holder;
  if (error instanceof PayloadTooLargeError) body.error.rule = 'max-body-bytes';
  if (error instanceof UnsupportedCharsetError) {
    body.error.field = 'Content-Type';
    body.error.rule = 'charset';
  }
  let statusCode = known.statusCode;
  if (error instanceof DependencyUnavailableError) {
    if (error.throttled) {
      statusCode = 429;
      body.error.code = 'THROTTLED';
    }
    headers['retry-after'] = String(error.retryAfterSeconds);
  }
  if (statusCode === 503 && !headers['retry-after']) headers['retry-after'] = '1';
  return { statusCode, body, headers };
}

function callerMessage(error: CrossfadeError, statusCode: number): string {
  if (error instanceof DependencyUnavailableError) return withoutAddresses(`${error.dependency}: ${error.verb} failed`);
  return statusCode >= 500 ? withoutAddresses(error.message) : error.message;
}

const ADDRESSES = [
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi, // URLs
  /\[[0-9a-f:.]+\](?::\d{1,5})?/gi, // [IPv6]:port
  /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, // IPv4[:port]
  /\b(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d{1,5}\b/gi, // host:port
];

/** What an upstream failure says to a caller: where the dependency lives is for the logs. */
function withoutAddresses(text: string): string {
  return ADDRESSES.reduce((out, pattern) => out.replace(pattern, '<address>'), text);
}
