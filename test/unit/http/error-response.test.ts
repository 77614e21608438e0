/** The one error → HTTP mapping (docs/api.md "Common rules"). */
import { describe, expect, it } from 'vitest';
import {
  ClusterAuthError,
  CloudIdentityRefusedError,
  AlreadyExistsError,
  ConfigError,
  ConflictError,
  DependencyUnavailableError,
  ForbiddenError,
  IdempotencyKeyCanceledError,
  IdempotencyKeyReusedError,
  InternalError,
  MissingCredentialsError,
  NotConvergedError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthenticatedError,
  UnsupportedCharsetError,
  ValidationError,
  VersionConflictError,
} from '../../../shared/domain/errors.js';
import { mapError } from '../../../shared/http/error-response.js';

describe('mapError', () => {
  it('IdempotencyKeyCanceledError: 409 IDEMPOTENCY_KEY_CANCELED (a 4xx: Spinnaker does not re-POST it)', () => {
    expect(mapError(new IdempotencyKeyCanceledError('01J-3', 'spinnaker', '2026-01-01T00:00:00.000Z'))).toEqual({
      statusCode: 409,
      body: { error: { code: 'IDEMPOTENCY_KEY_CANCELED', message: 'idempotency key "01J-3" was canceled by spinnaker at 2026-01-01T00:00:00.000Z, before this creation arrived: nothing was created' } },
      headers: {},
    });
  });

  it('UnsupportedCharsetError: 415 UNSUPPORTED_CHARSET naming the charset and the header', () => {
    expect(mapError(new UnsupportedCharsetError('klingon'))).toEqual({
      statusCode: 415,
      body: { error: { code: 'UNSUPPORTED_CHARSET', message: 'charset "klingon" in Content-Type is not supported: send the body as UTF-8 (the default) or ISO-8859-1', field: 'Content-Type', rule: 'charset' } },
      headers: {},
    });
  });

  it('ValidationError: 400 VALIDATION_FAILED naming the field and the rule', () => {
    expect(mapError(new ValidationError('canary.version is required', 'canary.version', 'required'))).toEqual({
      statusCode: 400,
      body: { error: { code: 'VALIDATION_FAILED', message: 'canary.version is required', field: 'canary.version', rule: 'required' } },
      headers: {},
    });
  });

  it('ValidationError without a field has neither field nor rule in the body', () => {
    expect(mapError(new ValidationError('body is not valid JSON')).body).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'body is not valid JSON' } });
  });

  it('PayloadTooLargeError: 400 PAYLOAD_TOO_LARGE', () => {
    const mapped = mapError(new PayloadTooLargeError(262_144));
    expect(mapped.statusCode).toBe(400);
    expect(mapped.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', rule: 'max-body-bytes' });
    expect(mapped.body.error.message).toContain('262144');
  });

  it('UnauthenticatedError: 401 UNAUTHENTICATED', () => {
    expect(mapError(new UnauthenticatedError('the bearer token is not valid'))).toEqual({
      statusCode: 401,
      body: { error: { code: 'UNAUTHENTICATED', message: 'the bearer token is not valid' } },
      headers: {},
    });
  });

  it('ForbiddenError: 403 FORBIDDEN naming the rule', () => {
    expect(mapError(new ForbiddenError('deploys are frozen', 'freeze-window'))).toEqual({
      statusCode: 403,
      body: { error: { code: 'FORBIDDEN', message: 'deploys are frozen', rule: 'freeze-window' } },
      headers: {},
    });
  });

  it("ClusterAuthError: 502 CLUSTER_AUTH_FAILED, naming the cluster (our credentials, not the caller's)", () => {
    const mapped = mapError(new ClusterAuthError('eks-use1', 'list EndpointSlices', 'HTTP 403'));
    expect(mapped.statusCode).toBe(502);
    expect(mapped.body).toEqual({ error: { code: 'CLUSTER_AUTH_FAILED', message: 'cluster eks-use1: list EndpointSlices was refused: HTTP 403' } });
  });

  it("CloudIdentityRefusedError: 502 CLOUD_IDENTITY_REFUSED, naming the role, the identity and STS's answer; not retryable", () => {
    const error = new CloudIdentityRefusedError('arn:aws:iam::123456789012:role/crossfade-gcp', 'Google identity fn@p.iam.gserviceaccount.com (unique id 42)', 'AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity');
    expect(error.retryable).toBe(false);
    expect(mapError(error)).toEqual({
      statusCode: 502,
      body: { error: { code: 'CLOUD_IDENTITY_REFUSED', message: 'AWS STS refused to let Google identity fn@p.iam.gserviceaccount.com (unique id 42) assume role arn:aws:iam::123456789012:role/crossfade-gcp: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity' } },
      headers: {},
    });
  });

  it('MissingCredentialsError: 422 CLUSTER_CREDENTIALS_MISSING (the caller can give the endpoints instead)', () => {
    const message = 'no AWS credentials for cluster eks-use1; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or give the endpoints explicitly';
    expect(mapError(new MissingCredentialsError('eks-use1', message))).toEqual({ statusCode: 422, body: { error: { code: 'CLUSTER_CREDENTIALS_MISSING', message } }, headers: {} });
  });

  it('NotFoundError: 404 NOT_FOUND', () => {
    expect(mapError(new NotFoundError('deployment dep_x does not exist'))).toMatchObject({ statusCode: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('ConflictError: 409 CONFLICT naming the holder', () => {
    expect(mapError(new ConflictError('service checkout is locked', 'dep_00000000000000000000000007'))).toEqual({
      statusCode: 409,
      body: { error: { code: 'CONFLICT', message: 'service checkout is locked', holder: 'dep_00000000000000000000000007' } },
      headers: {},
    });
  });

  it('AlreadyExistsError: 409 CONFLICT', () => {
    expect(mapError(new AlreadyExistsError('deployment dep_x'))).toMatchObject({ statusCode: 409, body: { error: { code: 'CONFLICT' } } });
  });

  it('IdempotencyKeyReusedError: 422 IDEMPOTENCY_KEY_REUSED', () => {
    const mapped = mapError(new IdempotencyKeyReusedError('exec-1-3'));
    expect(mapped).toMatchObject({ statusCode: 422, body: { error: { code: 'IDEMPOTENCY_KEY_REUSED' } }, headers: {} });
    expect(mapped.body.error.message).toContain('exec-1-3');
  });

  it('DependencyUnavailableError: 503 UNAVAILABLE with Retry-After from the error', () => {
    expect(mapError(new DependencyUnavailableError('DynamoDB table crossfade', 'read deployment', { retryAfterSeconds: 7 }))).toMatchObject({
      statusCode: 503,
      body: { error: { code: 'UNAVAILABLE' } },
      headers: { 'retry-after': '7' },
    });
    expect(mapError(new DependencyUnavailableError('DynamoDB table crossfade', 'read deployment')).headers).toEqual({ 'retry-after': '1' });
  });

  it('a throttled DependencyUnavailableError: 429 THROTTLED with Retry-After', () => {
    expect(mapError(new DependencyUnavailableError('DynamoDB table crossfade', 'list deployments', { throttled: true, retryAfterSeconds: 2 }))).toMatchObject({
      statusCode: 429,
      body: { error: { code: 'THROTTLED' } },
      headers: { 'retry-after': '2' },
    });
  });

  it('VersionConflictError (a lost race the use case gave up on): 503 BUSY with Retry-After', () => {
    expect(mapError(new VersionConflictError('deployment dep_x', 3))).toMatchObject({
      statusCode: 503,
      body: { error: { code: 'BUSY' } },
      headers: { 'retry-after': '1' },
    });
  });

  it.each([
    ['a plain Error', new Error('connect ECONNREFUSED 10.1.2.3:8000 password=hunter2')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'hunter2')")],
    ['an InternalError', new InternalError('DynamoDB table crossfade: hunter2 failed')],
    ['a ConfigError', new ConfigError('crossfade.yaml: hunter2', 'tokens')],
    ['a thrown string', 'hunter2'],
    ['undefined', undefined],
  ])('%s: 500 INTERNAL, without the original message', (_name, error) => {
    const mapped = mapError(error);
    expect(mapped.statusCode).toBe(500);
    expect(mapped.body).toEqual({ error: { code: 'INTERNAL', message: expect.any(String) } });
    expect(JSON.stringify(mapped)).not.toContain('hunter2');
  });

  it('an object pretending to be a known error by name is still 500', () => {
    const impostor = Object.assign(new Error('secret detail hunter2'), { name: 'ValidationError' });
    expect(mapError(impostor).statusCode).toBe(500);
    expect(JSON.stringify(mapError(impostor))).not.toContain('hunter2');
  });

  describe('an upstream failure names the dependency, never its address', () => {
    it('DependencyUnavailableError: the dependency and the verb, without the underlying error', () => {
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });
      const error = new DependencyUnavailableError('DynamoDB table crossfade', 'read deployment dep_x', { cause });
      expect(error.message).toContain('127.0.0.1:8000'); // the log gets the whole error
      expect(mapError(error).body).toEqual({ error: { code: 'UNAVAILABLE', message: 'DynamoDB table crossfade: read deployment dep_x failed' } });
    });

    it.each([
      ['a host:port in the dependency', new DependencyUnavailableError('HAProxy edge-2 at 10.0.0.5:9999', 'set weights'), 'HAProxy edge-2 at <address>: set weights failed'],
      ['a URL in the dependency', new DependencyUnavailableError('metrics provider p (Prometheus at http://prom.internal:9090)', 'query_range', { throttled: true }), 'metrics provider p (Prometheus at <address>): query_range failed'],
      ['an IPv6 address', new ClusterAuthError('eks-use1', 'list EndpointSlices', 'refused by [fd00::1]:443'), 'cluster eks-use1: list EndpointSlices was refused: refused by <address>'],
      ['a hostname and port', new NotConvergedError('proxy envoy-1 at ip-10-0-0-7.ec2.internal:15000 lags'), 'proxy envoy-1 at <address> lags'],
    ])('%s', (_name, error, message) => {
      expect(mapError(error).body.error.message).toBe(message);
    });

    it('a 4xx says what the caller sent, addresses included', () => {
      expect(mapError(new ValidationError('targets[0].endpoints[0].address "10.0.0.1:80" must be an IPv4 or IPv6 address', 'targets[0].endpoints[0].address', 'ip-address')).body.error.message).toContain('10.0.0.1:80');
    });
  });
});
