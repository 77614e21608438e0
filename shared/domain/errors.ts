/**
 * The one error hierarchy. Every failure crossfade raises on purpose is a CrossfadeError whose
 * `name` is stable: it is the `ErrorEquals` value Step Functions retries or catches on, and the key
 * shared/http maps to an HTTP status. Never rename one; add a new class instead.
 *
 * `retryable` says whether repeating the same call, unchanged, may succeed (a throttle, a lost
 * optimistic-lock race, an unreachable store). `cause` keeps the underlying error for logs.
 */
export abstract class CrossfadeError extends Error {
  abstract override readonly name: string;
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Input broke a rule. `field` is a dotted path into the input (`canary.version`, `steps[2].setWeight`). */
export class ValidationError extends CrossfadeError {
  override readonly name = 'ValidationError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly field?: string,
    readonly rule?: string,
  ) {
    super(message);
  }
}

/** The request body is larger than the API accepts; nothing was read past the limit. */
export class PayloadTooLargeError extends CrossfadeError {
  override readonly name = 'PayloadTooLargeError';
  readonly retryable = false;
  constructor(readonly limitBytes: number) {
    super(`request body is larger than ${limitBytes} bytes`);
  }
}

/** The request body is in a character set crossfade cannot decode (the Content-Type's `charset`). */
export class UnsupportedCharsetError extends CrossfadeError {
  override readonly name = 'UnsupportedCharsetError';
  readonly retryable = false;
  constructor(readonly charset: string) {
    super(`charset ${JSON.stringify(charset)} in Content-Type is not supported: send the body as UTF-8 (the default) or ISO-8859-1`);
  }
}

/** No token, or a token that matches none we know. */
export class UnauthenticatedError extends CrossfadeError {
  override readonly name = 'UnauthenticatedError';
  readonly retryable = false;
}

/** The caller is known but the action is outside its scopes, or a business rule refuses it. */
export class ForbiddenError extends CrossfadeError {
  override readonly name = 'ForbiddenError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly rule: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends CrossfadeError {
  override readonly name = 'NotFoundError';
  readonly retryable = false;
}

/** The resource is held by someone else (a service lock held by another deployment). */
export class ConflictError extends CrossfadeError {
  override readonly name = 'ConflictError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly holder?: string,
  ) {
    super(message);
  }
}

/**
 * A deployment's run lost its service: another deployment holds the lock, or held it since this
 * run last did (the fencing token moved on). Not retryable: the run must not move traffic again;
 * it ends, leaving traffic to the holder. `holder` names the holder when known.
 */
export class LockLostError extends CrossfadeError {
  override readonly name = 'LockLostError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly holder?: string,
  ) {
    super(message);
  }
}

/** An optimistic-lock write lost a race: re-read and try again. */
export class VersionConflictError extends CrossfadeError {
  override readonly name = 'VersionConflictError';
  readonly retryable = true;
  constructor(
    readonly resource: string,
    readonly expectedVersion: number,
  ) {
    super(`${resource} is no longer at version ${expectedVersion}`);
  }
}

/** An item that must not exist yet already does (a conditional create lost). */
export class AlreadyExistsError extends CrossfadeError {
  override readonly name = 'AlreadyExistsError';
  readonly retryable = false;
  constructor(readonly resource: string) {
    super(`${resource} already exists`);
  }
}

/**
 * The idempotency key was canceled (POST /v1/deployments/by-key/{key}/cancel) before a creation
 * with it arrived: Spinnaker canceled the stage while its create was still on its way. Nothing is created.
 */
export class IdempotencyKeyCanceledError extends CrossfadeError {
  override readonly name = 'IdempotencyKeyCanceledError';
  readonly retryable = false;
  constructor(
    readonly key: string,
    readonly canceledBy: string,
    readonly canceledAt: string,
  ) {
    super(`idempotency key "${key}" was canceled by ${canceledBy} at ${canceledAt}, before this creation arrived: nothing was created`);
  }
}

/** The idempotency key was first used with a different request body. */
export class IdempotencyKeyReusedError extends CrossfadeError {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly retryable = false;
  constructor(readonly key: string) {
    super(`idempotency key "${key}" was already used with a different request body`);
  }
}

/**
 * Business rules (docs/policy.md) refuse a deployment. `denied` lists every refusing verdict, each
 * naming its rule, why, and when it would next allow (null when time alone will not).
 */
export class PolicyDeniedError extends CrossfadeError {
  override readonly name = 'PolicyDeniedError';
  readonly retryable = false;
  constructor(readonly denied: readonly { rule: string; kind: string; reason: string; nextAllowedAt: string | null }[]) {
    super(`refused by policy: ${denied.map((v) => `${v.rule}: ${v.reason}${v.nextAllowedAt ? ` (allowed again at ${v.nextAllowedAt})` : ''}`).join('; ')}`);
  }
}

/** A dependency (store, cloud API) is unreachable, throttling or failing: safe to retry later. */
export class DependencyUnavailableError extends CrossfadeError {
  override readonly name = 'DependencyUnavailableError';
  readonly retryable = true;
  constructor(
    readonly dependency: string,
    readonly verb: string,
    options?: { cause?: unknown; throttled?: boolean; retryAfterSeconds?: number },
  ) {
    super(`${dependency}: ${verb} failed${describeCause(options?.cause)}`, options);
    this.throttled = options?.throttled ?? false;
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
  readonly throttled: boolean;
  readonly retryAfterSeconds: number;
}

/**
 * A cluster's Kubernetes API, or the cloud API that describes the cluster (EKS, GKE), refused our
 * credentials (401/403), or there were none to sign with. Not retryable: repeating the call will
 * not grant access; someone must fix the IAM policy, access entry or RBAC binding. `cluster` is the
 * crossfade cluster name (crossfade.yaml `clusters[].name`).
 */
export class ClusterAuthError extends CrossfadeError {
  override readonly name = 'ClusterAuthError';
  readonly retryable = false;
  constructor(
    readonly cluster: string,
    readonly verb: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cluster ${cluster}: ${verb} was refused: ${detail}`, options);
  }
}

/**
 * Discovery needs a cloud's credentials and none are configured where crossfade runs (it asks no
 * metadata server outside that cloud's own functions). Nothing was refused: the caller can give the
 * version's endpoints explicitly, or an operator can configure credentials. `cluster` is the
 * crossfade cluster name.
 */
export class MissingCredentialsError extends CrossfadeError {
  override readonly name = 'MissingCredentialsError';
  readonly retryable = false;
  constructor(
    readonly cluster: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A cloud refused crossfade's own identity: AWS STS would not let the function's Google identity
 * assume its role (the role's trust policy does not name that service account, or the token's
 * audience). Not retryable: someone must change the trust policy or the function's settings.
 * `role` and `identity` name both sides; the message ends with STS's own answer.
 */
export class CloudIdentityRefusedError extends CrossfadeError {
  override readonly name = 'CloudIdentityRefusedError';
  readonly retryable = false;
  constructor(
    readonly role: string,
    readonly identity: string,
    answer: string,
    options?: { cause?: unknown },
  ) {
    super(`AWS STS refused to let ${identity} assume role ${role}: ${answer}`, options);
  }
}

/** The configuration file (or environment) is invalid; `key` names the offending entry. */
export class ConfigError extends CrossfadeError {
  override readonly name = 'ConfigError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
  }
}

/** A bug or an unexpected answer from a dependency: never retried blindly. */
export class InternalError extends CrossfadeError {
  override readonly name = 'InternalError';
  readonly retryable = false;
}

/**
 * A proxy was reached and refused a command (HAProxy: "No such backend.", "Absolute weight can
 * only be between 0 and 256 inclusive.", a static balance algorithm, a socket below `level admin`).
 * Not retryable: the proxy's configuration must change first. Kept apart from InternalError so a
 * workflow can tell "fix this proxy" from "crossfade has a bug"; `dependency` names the proxy and
 * its address as DependencyUnavailableError does.
 */
export class ProxyCommandError extends CrossfadeError {
  override readonly name = 'ProxyCommandError';
  readonly retryable = false;
  constructor(
    readonly dependency: string,
    readonly command: string,
    readonly answer: string,
  ) {
    super(`${dependency} refused "${command}": ${answer}`);
  }
}

/**
 * A traffic step's proxies do not serve its split yet. Retryable: the state machine asks again
 * with backoff, and rolls back once its attempts are spent. `lagging` names the proxies.
 */
export class NotConvergedError extends CrossfadeError {
  override readonly name = 'NotConvergedError';
  readonly retryable = true;
  constructor(
    message: string,
    readonly lagging: readonly string[] = [],
  ) {
    super(message);
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `: ${cause.name}: ${cause.message}`;
  return '';
}
