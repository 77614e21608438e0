/**
 * A fake of AWS STS on loopback for AssumeRoleWithWebIdentity, in the query protocol
 * @aws-sdk/client-sts speaks (`POST /`, a form body with Action, Version, RoleArn, RoleSessionName,
 * WebIdentityToken; XML answers; errors as `<ErrorResponse><Error><Code>` whose Code the SDK turns
 * into the error's name). The call is unsigned: the token is the credential.
 *
 * It checks the token as STS does for the `accounts.google.com` provider: the signature (with the
 * fake metadata server's key), the issuer and expiry, then the role's trust policy, whose condition
 * keys map to the token's claims the way AWS maps Google's: `aud` → the token's `azp` (the service
 * account's unique id), `oaud` → its `aud`, `sub` → its `sub`. A refusal is AccessDenied "Not
 * authorized to perform sts:AssumeRoleWithWebIdentity", as STS says it.
 *
 * Credentials are issued with the lifetime a test queues (`nextLifetimesMs`), an hour otherwise.
 */
import { createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { GOOGLE_ISSUER } from './google-metadata.js';
import { listenOnLoopback, record, withBody, type RecordedRequest } from './loopback.js';

/** A role's trust policy, reduced to its `StringEquals` on accounts.google.com's keys. */
export interface GoogleTrust {
  /** accounts.google.com:aud: the token's azp, the service account's unique id. */
  aud: string;
  /** accounts.google.com:sub. */
  sub: string;
  /** accounts.google.com:oaud: the token's aud, the audience the function asked for. */
  oaud: string;
}

export interface IssuedCredentials {
  roleArn: string;
  sessionName: string;
  token: string;
  accessKeyId: string;
  sessionToken: string;
  expiration: Date;
}

export interface AssumeRoleCall {
  roleArn: string;
  sessionName: string;
  token: string;
  /** Whether the request carried an Authorization header (it should not: the call is unsigned). */
  signed: boolean;
}

export interface FakeSts {
  endpoint: string;
  requests: RecordedRequest[];
  calls: AssumeRoleCall[];
  issued: IssuedCredentials[];
  /** Sets (or replaces) a role's trust policy; a role with none refuses everyone. */
  trust(roleArn: string, trust: GoogleTrust): void;
  /** The lifetimes of the next credentials issued, in order. */
  nextLifetimesMs: number[];
  stop(): Promise<void>;
}

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const NOT_AUTHORIZED = 'Not authorized to perform sts:AssumeRoleWithWebIdentity';

export async function startFakeSts(googleKey: KeyObject): Promise<FakeSts> {
  const requests: RecordedRequest[] = [];
  const calls: AssumeRoleCall[] = [];
  const issued: IssuedCredentials[] = [];
  const trusts = new Map<string, GoogleTrust>();
  const fake = { nextLifetimesMs: [] as number[] };

  const server = createServer((request, response) => {
    record(request, requests);
    withBody(request, (text) => {
      const form = new URLSearchParams(text);
      if (request.method !== 'POST' || form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15') {
        return fail(response, 400, 'InvalidAction', `unsupported: ${request.method} Action=${form.get('Action')} Version=${form.get('Version')}`);
      }
      const call = { roleArn: form.get('RoleArn') ?? '', sessionName: form.get('RoleSessionName') ?? '', token: form.get('WebIdentityToken') ?? '', signed: request.headers.authorization !== undefined };
      calls.push(call);
      const claims = verifiedClaims(call.token, googleKey);
      if (typeof claims === 'string') return fail(response, 400, 'InvalidIdentityToken', claims);
      const trust = trusts.get(call.roleArn);
      if (!trust || claims['azp'] !== trust.aud || claims['sub'] !== trust.sub || claims['aud'] !== trust.oaud) return fail(response, 403, 'AccessDenied', NOT_AUTHORIZED);
      const credentials: IssuedCredentials = {
        ...call,
        accessKeyId: `ASIAFAKE${String(issued.length + 1).padStart(12, '0')}`,
        sessionToken: `fake-session-${issued.length + 1}-${randomBytes(8).toString('hex')}`,
        expiration: new Date(Date.now() + (fake.nextLifetimesMs.shift() ?? 3_600_000)),
      };
      issued.push(credentials);
      response.writeHead(200, { 'content-type': 'text/xml' }).end(answer(credentials, String(claims['sub'])));
    });
  });
  const { port, stop } = await listenOnLoopback(server);
  return Object.assign(fake, {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    calls,
    issued,
    trust: (roleArn: string, trust: GoogleTrust) => void trusts.set(roleArn, trust),
    stop,
  });
}

/** The token's claims when STS would accept it as Google's, else why not. */
function verifiedClaims(token: string, key: KeyObject): Record<string, unknown> | string {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return 'The ID Token provided is not a valid JWT.';
  if (!createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(key, Buffer.from(signature, 'base64url'))) return "Couldn't verify the signature of the ID token.";
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (claims['iss'] !== GOOGLE_ISSUER) return `No OpenIDConnect provider found in your account for ${String(claims['iss'])}`;
  if (typeof claims['exp'] !== 'number' || claims['exp'] * 1000 < Date.now()) return 'Token is expired.';
  return claims;
}

function answer(credentials: IssuedCredentials, subject: string): string {
  const session = credentials.roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/');
  return `<AssumeRoleWithWebIdentityResponse xmlns="${NAMESPACE}">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>${subject}</SubjectFromWebIdentityToken>
    <Audience>${subject}</Audience>
    <AssumedRoleUser>
      <Arn>${session}/${credentials.sessionName}</Arn>
      <AssumedRoleId>AROAFAKEFAKEFAKE:${credentials.sessionName}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${credentials.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${randomBytes(20).toString('base64')}</SecretAccessKey>
      <SessionToken>${credentials.sessionToken}</SessionToken>
      <Expiration>${credentials.expiration.toISOString()}</Expiration>
    </Credentials>
    <Provider>accounts.google.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`;
}

function fail(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { 'content-type': 'text/xml' }).end(
    `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
  );
}
