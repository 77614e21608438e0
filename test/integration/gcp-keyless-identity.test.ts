/**
 * Keyless cross-cloud identity: the built GCP entry point (dist/gcp/index.mjs, served by
 * functions-framework on 127.0.0.1 as the other GCP tests do) with no AWS key in its environment,
 * only CROSSFADE_AWS_ROLE_ARN. google-auth-library fetches the service account's ID token from a
 * fake metadata server (GCE_METADATA_HOST), the real STS client trades it at a fake STS, and the real
 * DynamoDB and Step Functions clients must sign with what STS issued: the embedded store and the fake
 * Step Functions read `Credential=<AccessKeyId>/…` and the session token off every request.
 *
 * The tests tell one story on one cold start, in order: refused while the role does not trust the
 * service account; then, trust granted, signed with the first credentials, which near their end
 * (the fake STS issues them 2 s longer than the renewal margin, and the test waits those 2 s) and
 * are replaced before they expire.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableHandle, type TableHandle } from '../../shared/adapters/dynamodb/client.js';
import { ensureTable } from '../../shared/adapters/dynamodb/stores.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo.js';
import { startFakeGoogleMetadata, type FakeGoogleMetadata } from '../support/fake-clouds/google-metadata.js';
import { startFakeSts, type FakeSts } from '../support/fake-clouds/sts.js';
import type { FakeStepFunctions } from '../support/fake-clouds/step-functions.js';
import { bearer, configureEnvironment, functionsFrameworkTarget, registerVersions, tokens, uniqueService, type HttpTarget } from '../support/http-targets.js';
import { deploymentBody } from '../support/requests.js';
import { SDK_REFRESH_MARGIN_MS } from '../../shared/adapters/aws-federation/google-web-identity.js';
import { scanTable } from '../support/store-backends.js';

const ROLE = 'arn:aws:iam::123456789012:role/crossfade-gcp';
const AUDIENCE = 'crossfade-aws-federation';
const ACCOUNT = { email: 'crossfade@crossfade-test.iam.gserviceaccount.com', uniqueId: '112233445566778899001' };
const STATIC_KEY = 'AKIASTATICKEYUNUSED0';

/** Who signed a request: the access key id of its SigV4 Authorization, and its session token. */
interface Signature {
  accessKeyId: string | undefined;
  sessionToken: string | undefined;
}

function signatureOf(headers: IncomingHttpHeaders): Signature {
  const token = headers['x-amz-security-token'];
  return { accessKeyId: /Credential=([^/]+)\//.exec(String(headers.authorization ?? ''))?.[1], sessionToken: typeof token === 'string' ? token : undefined };
}

/** Consecutive equal signatures as one: which credentials were used, in the order they were. */
function withoutRepeats(signatures: readonly Signature[]): Signature[] {
  return signatures.filter((signature, index) => index === 0 || signature.accessKeyId !== signatures[index - 1]!.accessKeyId);
}

function sleepUntil(epochMs: number): Promise<void> {
  return new Promise((done) => setTimeout(done, Math.max(0, epochMs - Date.now())));
}

let metadata: FakeGoogleMetadata;
let sts: FakeSts;
let store: EmbeddedDynamo;
let stepFunctions: FakeStepFunctions;
let target: HttpTarget;
let storeSignatures: Signature[] = [];
let table: TableHandle;

beforeAll(async () => {
  metadata = await startFakeGoogleMetadata(ACCOUNT);
  sts = await startFakeSts(metadata.publicKey);
  store = await startEmbeddedDynamo({ onRequest: (request) => void storeSignatures.push(signatureOf(request.headers)) });
  table = createTableHandle({ region: 'us-east-1', endpoint: store.endpoint, credentials: { accessKeyId: 'setup', secretAccessKey: 'setup' } }, `keyless-${randomUUID()}`);
  await ensureTable(table);
  stepFunctions = await configureEnvironment(store.endpoint, table.tableName);
  Object.assign(process.env, {
    CROSSFADE_AWS_ROLE_ARN: ROLE,
    CROSSFADE_AWS_AUDIENCE: AUDIENCE,
    AWS_ENDPOINT_URL_STS: sts.endpoint,
    GCE_METADATA_HOST: metadata.host,
    // A static key left beside the role must not be used: the role wins.
    AWS_ACCESS_KEY_ID: STATIC_KEY,
    AWS_SECRET_ACCESS_KEY: 'static-secret-unused',
  });
  target = await functionsFrameworkTarget();
  storeSignatures = [];
});

afterAll(async () => {
  await target.stop();
  await Promise.all([stepFunctions.stop(), sts.stop(), metadata.stop(), store.stop()]);
});

describe('GCP functions reach AWS with their Google identity, no key', () => {
  it('a role that does not trust the service account: 502 naming the role, the identity and STS answer, and nothing reaches AWS', async () => {
    const before = await scanTable(table);
    const answer = await target.send({ method: 'GET', path: `/v1/deployments/dep_${'0'.repeat(26)}`, headers: bearer(tokens.admin) });
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({
      error: {
        code: 'CLOUD_IDENTITY_REFUSED',
        message: `AWS STS refused to let Google identity ${ACCOUNT.email} (unique id ${ACCOUNT.uniqueId}) assume role ${ROLE}: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity`,
      },
    });
    // STS saw the metadata server's token for our audience; the store saw nothing signed.
    expect(sts.calls).toEqual([{ roleArn: ROLE, sessionName: 'crossfade-gcp', token: metadata.issued[0], signed: false }]);
    expect(metadata.requests.map((r) => r.query.get('audience'))).toEqual([AUDIENCE]);
    expect(storeSignatures.filter((s) => s.accessKeyId !== 'setup')).toEqual([]);
    expect(await scanTable(table)).toEqual(before);
  });

  it('once the role trusts it: DynamoDB and Step Functions calls are signed with what STS issued, renewed with a fresh ID token before they expire', async () => {
    sts.trust(ROLE, { aud: ACCOUNT.uniqueId, sub: ACCOUNT.uniqueId, oaud: AUDIENCE });
    // The first credentials live 2 s longer than the 5 minutes before expiry in which the SDK's
    // clients and the provider replace them: used at first, then due for renewal 2 s later.
    sts.nextLifetimesMs = [SDK_REFRESH_MARGIN_MS + 2_000];
    storeSignatures = [];
    const service = uniqueService();
    await registerVersions(target, service);
    await sleepUntil(sts.issued[0]!.expiration.getTime() - SDK_REFRESH_MARGIN_MS + 100);
    const created = await target.send({
      method: 'POST',
      path: '/v1/deployments',
      headers: { ...bearer(tokens.admin), 'content-type': 'application/json' },
      body: JSON.stringify(deploymentBody({ service })),
    });
    expect(created.status).toBe(202);

    // Two exchanges after the refused one, each with an ID token of its own from the metadata server.
    expect(sts.calls.slice(1)).toEqual(metadata.issued.slice(1).map((token) => ({ roleArn: ROLE, sessionName: 'crossfade-gcp', token, signed: false })));
    expect(sts.issued).toHaveLength(2);
    const [first, second] = sts.issued.map((issued) => ({ accessKeyId: issued.accessKeyId, sessionToken: issued.sessionToken }));
    // The first set was replaced while it was still valid (it has minutes left).
    expect(sts.issued[0]!.expiration.getTime()).toBeGreaterThan(Date.now());

    // The store: its first calls with the first set, every later one with the second; never the static key.
    expect(withoutRepeats(storeSignatures)).toEqual([first, second]);
    expect(storeSignatures.filter((signature) => signature.accessKeyId === second!.accessKeyId).length).toBeGreaterThan(1);
    // Step Functions: the run was started, signed with the second set.
    const starts = stepFunctions.requests.filter((request) => request.headers['x-amz-target'] === 'AWSStepFunctions.StartExecution');
    expect(stepFunctions.callsOf('StartExecution').map((call) => call['name'])).toEqual([(created.body as { id: string }).id]);
    expect(starts.map((request) => signatureOf(request.headers))).toEqual([second]);
  });
});

describe('GCP functions with no AWS credentials configured', () => {
  it('fail to start, naming both ways to configure them', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|CROSSFADE_AWS_ROLE_ARN)$/.test(key)));
    const child = spawn(process.execPath, [resolve('node_modules/@google-cloud/functions-framework/build/src/main.js'), '--target=api', `--source=${resolve('dist/gcp')}`, '--port=0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((exited) => child.once('exit', exited));
    expect(code).not.toBe(0);
    expect(output).toContain(
      'no AWS credentials for the GCP function: set CROSSFADE_AWS_ROLE_ARN (keyless: a role that trusts the function\'s service account) or, as a fallback, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (docs/deploy-gcp.md)',
    );
  });
});
