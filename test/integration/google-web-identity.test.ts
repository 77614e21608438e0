/**
 * The keyless credentials provider alone (shared/adapters/aws-federation/google-web-identity.ts):
 * google-auth-library asks a fake metadata server (GCE_METADATA_HOST) for the ID token, the real
 * STS client trades it at a fake STS. A settable clock says when credentials near their end.
 */
import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { googleWebIdentityCredentials, SDK_REFRESH_MARGIN_MS } from '../../shared/adapters/aws-federation/google-web-identity.js';
import { CloudIdentityRefusedError, DependencyUnavailableError } from '../../shared/domain/errors.js';
import { startFakeGoogleMetadata, type FakeGoogleMetadata } from '../support/fake-clouds/google-metadata.js';
import { listenOnLoopback } from '../support/fake-clouds/loopback.js';
import { startFakeSts, type FakeSts } from '../support/fake-clouds/sts.js';

const ROLE = 'arn:aws:iam::123456789012:role/crossfade-gcp';
const AUDIENCE = 'crossfade-aws-federation';
const ACCOUNT = { email: 'crossfade@crossfade-test.iam.gserviceaccount.com', uniqueId: '112233445566778899001' };

let metadata: FakeGoogleMetadata;
let sts: FakeSts;
const savedMetadataHost = process.env['GCE_METADATA_HOST'];

beforeAll(async () => {
  metadata = await startFakeGoogleMetadata(ACCOUNT);
  sts = await startFakeSts(metadata.publicKey);
  sts.trust(ROLE, { aud: ACCOUNT.uniqueId, sub: ACCOUNT.uniqueId, oaud: AUDIENCE });
  process.env['GCE_METADATA_HOST'] = metadata.host;
});

// The last test points it elsewhere.
afterEach(() => {
  process.env['GCE_METADATA_HOST'] = metadata.host;
});

afterAll(async () => {
  if (savedMetadataHost === undefined) delete process.env['GCE_METADATA_HOST'];
  else process.env['GCE_METADATA_HOST'] = savedMetadataHost;
  await Promise.all([sts.stop(), metadata.stop()]);
});

function provider(options: { audience?: string; now?: () => Date } = {}) {
  return googleWebIdentityCredentials({
    roleArn: ROLE,
    audience: options.audience ?? AUDIENCE,
    sessionName: 'crossfade-test',
    region: 'us-east-1',
    stsEndpoint: sts.endpoint,
    clock: { now: options.now ?? (() => new Date()) },
  });
}

describe('AWS credentials from the Google identity', () => {
  it('keeps what STS issued until its last 5 minutes, then trades a fresh ID token for new credentials', async () => {
    let now = new Date();
    const credentials = provider({ now: () => now });
    const exchangesBefore = sts.issued.length;

    const first = await credentials();
    expect(first).toEqual({ accessKeyId: sts.issued.at(-1)!.accessKeyId, secretAccessKey: expect.any(String), sessionToken: sts.issued.at(-1)!.sessionToken, expiration: sts.issued.at(-1)!.expiration });
    // Up to the margin: the same credentials, no exchange.
    now = new Date(first.expiration.getTime() - SDK_REFRESH_MARGIN_MS - 1);
    expect(await credentials()).toBe(first);
    expect(sts.issued.length).toBe(exchangesBefore + 1);
    // Inside it (still valid): new credentials, for a token the metadata server issued afresh.
    now = new Date(first.expiration.getTime() - SDK_REFRESH_MARGIN_MS + 1);
    const second = await credentials();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(sts.issued.length).toBe(exchangesBefore + 2);
    const [tokenOfFirst, tokenOfSecond] = sts.calls.slice(-2).map((call) => call.token);
    expect(tokenOfSecond).not.toBe(tokenOfFirst);
    expect(metadata.issued.slice(-2)).toEqual([tokenOfFirst, tokenOfSecond]);
    expect(sts.calls.slice(-2).map((call) => [call.roleArn, call.sessionName, call.signed])).toEqual([
      [ROLE, 'crossfade-test', false],
      [ROLE, 'crossfade-test', false],
    ]);
  });

  it('callers at the same moment share one exchange', async () => {
    const credentials = provider();
    const exchangesBefore = sts.calls.length;
    const all = await Promise.all([credentials(), credentials(), credentials()]);
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    expect(sts.calls.length).toBe(exchangesBefore + 1);
  });

  it('a token for another audience is refused: the error names the role, the identity and STS answer', async () => {
    const refused = await provider({ audience: 'someone-else' })().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CloudIdentityRefusedError);
    expect(refused).toMatchObject({
      role: ROLE,
      identity: `Google identity ${ACCOUNT.email} (unique id ${ACCOUNT.uniqueId})`,
      message: `AWS STS refused to let Google identity ${ACCOUNT.email} (unique id ${ACCOUNT.uniqueId}) assume role ${ROLE}: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity`,
    });
  });

  it('a metadata server that does not answer: unavailable, naming it and the audience', async () => {
    const gone = await listenOnLoopback(createServer());
    await gone.stop();
    process.env['GCE_METADATA_HOST'] = `127.0.0.1:${gone.port}`;
    const exchangesBefore = sts.calls.length;
    const failure = await provider()().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DependencyUnavailableError);
    expect((failure as Error).message).toMatch(/^Google metadata server: fetch an ID token for audience crossfade-aws-federation failed: /);
    expect(sts.calls.length).toBe(exchangesBefore);
  });
});
