/**
 * Direct invocation on GCP (docs/direct-invocation.md): the `api` Cloud Function (gcp/index.ts under
 * functions-framework) called at its URL with a Google-signed ID token. A fake issuer on loopback
 * publishes its RSA keys as a JWKS and signs the tokens; the CLI's gcp transport gets its tokens
 * with the real google-auth-library from a fake metadata server (what it asks on Google Cloud).
 * The token's email is mapped through googlePrincipals; crossfade tokens keep working.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcpTransport } from '../../cli/transport/gcp.js';
import { startFakeGoogleIssuer, type FakeGoogleIssuer, type IdTokenClaims } from '../support/fake-clouds/google-issuer.js';
import { apiTableOnDynamoDbLocal, bearer, registrationBody, tokens, uniqueService, type ApiEnvironment } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';
import { scanTable } from '../support/store-backends.js';

const DEPLOYER = 'deployer@crossfade-test.iam.gserviceaccount.com';

let api: ApiEnvironment;
let issuer: FakeGoogleIssuer;
let server: Server;
let functionUrl: string;

beforeAll(async () => {
  issuer = await startFakeGoogleIssuer(DEPLOYER);
  await import('../../gcp/index.js');
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  server = getTestServer('api') as Server;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  functionUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The function's deps are built on its first request, from this configuration.
  api = await apiTableOnDynamoDbLocal('direct-gcp', [], {
    identity: { google: { audience: functionUrl, certsUrl: issuer.certsUrl } },
    googlePrincipals: [{ email: DEPLOYER, scopes: ['deploy:checkout*'] }],
  });
  // google-auth-library on "Google Cloud": its metadata server is the fake's.
  delete process.env['GOOGLE_APPLICATION_CREDENTIALS'];
  process.env['GCE_METADATA_HOST'] = issuer.metadataHost;
  process.env['METADATA_SERVER_DETECTION'] = 'assume-present';
});

afterAll(async () => {
  await new Promise<void>((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
  await Promise.all([api.stop(), issuer.stop()]);
});

async function listWith(idToken: string): Promise<{ status: number; body: { error?: Record<string, unknown> } }> {
  const response = await fetch(`${functionUrl}/v1/deployments?service=checkout`, { headers: bearer(idToken) });
  return { status: response.status, body: (await response.json()) as { error?: Record<string, unknown> } };
}

const claims = (overrides: Partial<IdTokenClaims> = {}): IdTokenClaims => ({ aud: functionUrl, email: DEPLOYER, ...overrides });

describe('the gcp transport, with google-auth-library\'s ID tokens', () => {
  it('a mapped service account registers, deploys and reads back; the audit names its email', async () => {
    const transport = createGcpTransport({ url: functionUrl });
    const service = uniqueService();
    for (const [index, version] of ['v41', 'v42'].entries()) {
      expect((await transport.send({ method: 'PUT', path: `/v1/services/${service}/versions/${version}`, body: registrationBody(service, index) })).statusCode).toBe(201);
    }

    const created = await transport.send({ method: 'POST', path: '/v1/deployments', body: deploymentBody({ service, spinnaker: undefined }) });

    expect(created.statusCode).toBe(202);
    const id = (created.body as { id: string }).id;
    const events = await transport.send({ method: 'GET', path: `/v1/deployments/${id}/events` });
    expect(events.body).toMatchObject({ items: [{ action: 'deployment.created', actor: DEPLOYER }] });
    // The token was asked for the function URL as its audience, and reused for every request.
    const asked = issuer.requests.filter((r) => r.path.endsWith('/identity'));
    expect(asked.map((r) => r.query.get('audience'))).toEqual([functionUrl]);
  });

  it('outside the account\'s scopes is 403 naming it, and nothing is written', async () => {
    const before = await scanTable(api.table);
    const answer = await createGcpTransport({ url: functionUrl }).send({ method: 'POST', path: '/v1/deployments', body: deploymentBody({ service: 'payments' }) });
    expect(answer).toMatchObject({ statusCode: 403, body: { error: { code: 'FORBIDDEN', message: `Google account ${DEPLOYER} may not deploy service payments (needs scope deploy:payments or admin)` } } });
    expect(await scanTable(api.table)).toEqual(before);
  });
});

describe('ID tokens the function refuses', () => {
  it('a valid token of a mapped account: 200', async () => {
    expect((await listWith(issuer.sign(claims()))).status).toBe(200);
  });

  it('expired: 401', async () => {
    const hourAgo = Math.floor(Date.now() / 1000) - 7200;
    const answer = await listWith(issuer.sign(claims({ iat: hourAgo, exp: hourAgo + 3600 })));
    expect(answer).toEqual({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'the Google ID token has expired' } } });
  });

  it('made for another audience: 401', async () => {
    const answer = await listWith(issuer.sign(claims({ aud: 'https://another-function.a.run.app' })));
    expect(answer.body.error?.['message']).toBe('the Google ID token was made for another audience (it must be the function URL)');
    expect(answer.status).toBe(401);
  });

  it('signed with a key Google does not publish: 401', async () => {
    const answer = await listWith(issuer.signWithUnpublishedKey(claims()));
    expect(answer).toEqual({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'the Google ID token is signed with a key Google does not publish' } } });
  });

  it('a tampered payload (another email, same signature): 401', async () => {
    const [header, , signature] = issuer.sign(claims()).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims({ email: 'admin@crossfade-test.iam.gserviceaccount.com' }), iss: 'https://accounts.google.com', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600, email_verified: true })).toString('base64url');
    const answer = await listWith(`${header}.${forged}.${signature}`);
    expect(answer).toEqual({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'the Google ID token has a signature that does not verify' } } });
  });

  it('not issued by Google, or without a verified email: 401', async () => {
    expect((await listWith(issuer.sign(claims({ iss: 'https://evil.example.com' })))).body.error?.['message']).toBe('the Google ID token was not issued by Google (accounts.google.com)');
    expect((await listWith(issuer.sign(claims({ email_verified: false })))).body.error?.['message']).toBe('the Google ID token carries no verified email');
  });

  it('a verified account nobody mapped: 403', async () => {
    const answer = await listWith(issuer.sign(claims({ email: 'stranger@crossfade-test.iam.gserviceaccount.com' })));
    expect(answer).toEqual({ status: 403, body: { error: { code: 'FORBIDDEN', message: 'Google account stranger@crossfade-test.iam.gserviceaccount.com is not in crossfade.yaml googlePrincipals', rule: 'google-principal' } } });
  });

  it('crossfade tokens keep working at the same URL', async () => {
    expect((await listWith(tokens.reader)).status).toBe(200);
  });
});
