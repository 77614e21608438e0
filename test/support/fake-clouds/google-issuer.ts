/**
 * A fake Google ID-token issuer on loopback: RSA keys made with node:crypto, their public halves
 * published as a JWKS (what https://www.googleapis.com/oauth2/v3/certs serves), and tokens signed
 * RS256 with the claims Google puts in a service account's ID token. `signWithUnpublishedKey`
 * signs with a key the JWKS does not list. It also serves the metadata server's identity endpoint
 * (`/computeMetadata/v1/instance/service-accounts/default/identity?audience=`), so
 * google-auth-library on "Google Cloud" (GCE_METADATA_HOST) gets its ID tokens here.
 */
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback, record, type RecordedRequest } from './loopback.js';

export interface IdTokenClaims {
  aud: string;
  email: string;
  /** Seconds since the epoch; default now. */
  iat?: number;
  /** Default iat + 3600. */
  exp?: number;
  iss?: string;
  email_verified?: boolean;
}

export interface FakeGoogleIssuer {
  /** identity.google.certsUrl */
  certsUrl: string;
  /** For GCE_METADATA_HOST: `127.0.0.1:PORT`. */
  metadataHost: string;
  requests: RecordedRequest[];
  sign(claims: IdTokenClaims): string;
  signWithUnpublishedKey(claims: IdTokenClaims): string;
  /** The email the metadata server's tokens carry. */
  metadataEmail: string;
  stop(): Promise<void>;
}

const KID = 'fake-key-1';

export async function startFakeGoogleIssuer(metadataEmail = 'deployer@crossfade-test.iam.gserviceaccount.com'): Promise<FakeGoogleIssuer> {
  const published = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const unpublished = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...published.publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
  const requests: RecordedRequest[] = [];
  const sign = (claims: IdTokenClaims, key: KeyObject, kid: string) => signJwt(claims, key, kid);

  const server = createServer((request, response) => {
    const seen = record(request, requests);
    if (seen.path === '/oauth2/v3/certs') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
      return response.end(JSON.stringify({ keys: [jwk] }));
    }
    const metadata = request.headers['metadata-flavor'] === 'Google';
    if (metadata && seen.path === '/computeMetadata/v1/instance/service-accounts/default/identity') {
      response.writeHead(200, { 'content-type': 'text/plain', 'metadata-flavor': 'Google' });
      return response.end(sign({ aud: seen.query.get('audience') ?? '', email: metadataEmail }, published.privateKey, KID));
    }
    if (metadata && seen.path.startsWith('/computeMetadata/v1')) {
      response.writeHead(200, { 'content-type': 'text/plain', 'metadata-flavor': 'Google' });
      return response.end('');
    }
    response.writeHead(404).end();
  });
  const { port, stop } = await listenOnLoopback(server);
  return {
    certsUrl: `http://127.0.0.1:${port}/oauth2/v3/certs`,
    metadataHost: `127.0.0.1:${port}`,
    requests,
    metadataEmail,
    sign: (claims) => sign(claims, published.privateKey, KID),
    signWithUnpublishedKey: (claims) => sign(claims, unpublished.privateKey, 'fake-key-unpublished'),
    stop,
  };
}

function signJwt(claims: IdTokenClaims, key: KeyObject, kid: string): string {
  const iat = claims.iat ?? Math.floor(Date.now() / 1000);
  const payload = { iss: 'https://accounts.google.com', azp: '1234567890', sub: '1234567890', email_verified: true, ...claims, iat, exp: claims.exp ?? iat + 3600 };
  const part = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  const signed = `${part({ alg: 'RS256', kid, typ: 'JWT' })}.${part(payload)}`;
  const signature = createSign('RSA-SHA256').update(signed).end().sign(key).toString('base64url');
  return `${signed}.${signature}`;
}
