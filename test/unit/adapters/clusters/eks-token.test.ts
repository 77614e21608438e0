/**
 * The EKS bearer token (shared/adapters/clusters/eks.ts createEksToken): the format
 * `aws eks get-token` produces, and a SigV4 query signature that a from-scratch implementation
 * (node:crypto, below) reproduces — so the signature covers `host` and `x-k8s-aws-id`, binding the
 * token to one cluster.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEksToken, type AwsCredentials } from '../../../../shared/adapters/clusters/eks.js';

const credentials: AwsCredentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const signingDate = new Date('2025-01-02T03:04:05.678Z');

async function tokenUrl(overrides: { eksClusterName?: string; region?: string; credentials?: AwsCredentials } = {}): Promise<{ token: string; url: URL }> {
  const token = await createEksToken({ eksClusterName: 'prod-use1', region: 'us-east-1', credentials, signingDate, ...overrides });
  return { token, url: new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8')) };
}

/** SigV4 query signing from the spec (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). */
function expectedSignature(url: URL, headers: Record<string, string>, secretAccessKey: string): string {
  const rfc3986 = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...url.searchParams.entries()]
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => `${rfc3986(key)}=${rfc3986(value)}`)
    .sort()
    .join('&');
  const names = Object.keys(headers).sort();
  const canonicalRequest = ['GET', '/', query, ...names.map((name) => `${name}:${headers[name]}`), '', names.join(';'), createHash('sha256').update('').digest('hex')].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date')!;
  const scope = url.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const [day, region, service] = scope.split('/') as [string, string, string];
  const key = [day, region, service, 'aws4_request'].reduce<Buffer | string>((k, part) => createHmac('sha256', k).update(part).digest(), `AWS4${secretAccessKey}`);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('createEksToken', () => {
  it('is k8s-aws-v1. followed by unpadded base64url of a presigned STS URL', async () => {
    const { token, url } = await tokenUrl();

    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token.slice('k8s-aws-v1.'.length)).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.us-east-1.amazonaws.com');
    expect(url.pathname).toBe('/');
  });

  it('presigns GetCallerIdentity for 60 seconds, signing host and x-k8s-aws-id', async () => {
    const { url } = await tokenUrl();
    const query = Object.fromEntries(url.searchParams);

    expect(query).toEqual({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20250102/us-east-1/sts/aws4_request',
      'X-Amz-Date': '20250102T030405Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('carries a session token as X-Amz-Security-Token', async () => {
    const { url } = await tokenUrl({ credentials: { ...credentials, sessionToken: 'IQoJb3JpZ2luX2VjE//session+token=' } });

    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('IQoJb3JpZ2luX2VjE//session+token=');
  });

  it('has the signature STS will recompute with x-k8s-aws-id set to the EKS cluster name, and no other', async () => {
    const { url } = await tokenUrl();
    const signature = url.searchParams.get('X-Amz-Signature');

    expect(signature).toBe(expectedSignature(url, { host: 'sts.us-east-1.amazonaws.com', 'x-k8s-aws-id': 'prod-use1' }, credentials.secretAccessKey));
    expect(signature).not.toBe(expectedSignature(url, { host: 'sts.us-east-1.amazonaws.com', 'x-k8s-aws-id': 'other-cluster' }, credentials.secretAccessKey));
  });

  it('signs with a session token in the query too', async () => {
    const { url } = await tokenUrl({ credentials: { ...credentials, sessionToken: 'session/token+with=odd chars' } });

    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, { host: 'sts.us-east-1.amazonaws.com', 'x-k8s-aws-id': 'prod-use1' }, credentials.secretAccessKey));
  });

  it("uses the cluster region's STS endpoint, and the China partition's domain there", async () => {
    expect((await tokenUrl({ region: 'eu-west-1' })).url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect((await tokenUrl({ region: 'eu-west-1' })).url.searchParams.get('X-Amz-Credential')).toContain('/eu-west-1/sts/aws4_request');
    expect((await tokenUrl({ region: 'cn-north-1' })).url.host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });

  it('is the same token for the same inputs (no hidden clock or randomness)', async () => {
    expect((await tokenUrl()).token).toBe((await tokenUrl()).token);
  });
});
