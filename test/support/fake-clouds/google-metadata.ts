/**
 * A fake of the Google metadata server on loopback, for the one thing crossfade asks it on GCP
 * besides access tokens: the instance service account's ID token,
 * `GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=…&format=full`,
 * which gcp-metadata (google-auth-library's Compute client) sends with `Metadata-Flavor: Google`
 * and accepts only with that header in the answer. GCE_METADATA_HOST=`host` points
 * google-auth-library at it.
 *
 * Tokens are RS256 JWTs shaped like Google's for a service account (iss accounts.google.com, aud
 * the audience asked for, azp and sub the account's unique id, email), signed with a key of the
 * fake's own: `publicKey` lets a fake STS verify them.
 */
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback, record, type RecordedRequest } from './loopback.js';

export const GOOGLE_ISSUER = 'https://accounts.google.com';
const IDENTITY_PATH = '/computeMetadata/v1/instance/service-accounts/default/identity';

export interface FakeServiceAccount {
  email: string;
  /** The numeric unique id: a token's `sub` and `azp`, what an AWS trust policy names. */
  uniqueId: string;
}

export interface FakeGoogleMetadata {
  /** For GCE_METADATA_HOST (host:port, no scheme). */
  host: string;
  publicKey: KeyObject;
  requests: RecordedRequest[];
  /** Every ID token handed out, in order. */
  issued: string[];
  stop(): Promise<void>;
}

export async function startFakeGoogleMetadata(account: FakeServiceAccount): Promise<FakeGoogleMetadata> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const requests: RecordedRequest[] = [];
  const issued: string[] = [];
  const server = createServer((request, response) => {
    const { path, query, headers } = record(request, requests);
    const audience = query.get('audience');
    if (headers['metadata-flavor'] !== 'Google') {
      response.writeHead(403, { 'content-type': 'text/plain' }).end('Missing Metadata-Flavor:Google header.');
    } else if (path !== IDENTITY_PATH || !audience) {
      response.writeHead(404, { 'content-type': 'text/plain', 'metadata-flavor': 'Google' }).end('Not Found');
    } else {
      const token = signedIdToken(privateKey, account, audience, issued.length);
      issued.push(token);
      response.writeHead(200, { 'content-type': 'text/plain', 'metadata-flavor': 'Google' }).end(token);
    }
  });
  const { port, stop } = await listenOnLoopback(server);
  return { host: `127.0.0.1:${port}`, publicKey, requests, issued, stop };
}

function signedIdToken(key: KeyObject, account: FakeServiceAccount, audience: string, serial: number): string {
  const iat = Math.floor(Date.now() / 1000);
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  // `serial` stands in for what differs between two real tokens (their iat, their signature).
  const header = encode({ alg: 'RS256', kid: `fake-${serial}`, typ: 'JWT' });
  const claims = encode({ iss: GOOGLE_ISSUER, aud: audience, azp: account.uniqueId, sub: account.uniqueId, email: account.email, email_verified: true, iat, exp: iat + 3600 });
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key).toString('base64url');
  return `${header}.${claims}.${signature}`;
}
