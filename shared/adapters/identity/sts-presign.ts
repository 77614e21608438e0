/**
 * A presigned `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-...`
 * whose SigV4 signature also covers one header of the caller's choosing. Whoever holds the URL can
 * ask STS who signed it, for a few minutes, and only while sending that header with that value:
 * aws-iam-authenticator's scheme (EKS tokens bind `x-k8s-aws-id`; crossfade binds `x-crossfade-id`).
 * https://github.com/kubernetes-sigs/aws-iam-authenticator#api-authorization-from-outside-a-cluster
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Temporary credentials: the SDK asks its provider again shortly before. */
  expiration?: Date;
}

export interface CallerIdentityPresign {
  region: string;
  credentials: AwsCredentials;
  /** The bound header, lower case; not `x-amz-*`, so the presigner keeps it a signed header. */
  headerName: string;
  headerValue: string;
  signingDate: Date;
  expiresInSeconds: number;
  /** Default: the regional STS endpoint. Tests and VPC endpoints: `http(s)://host[:port]`. */
  endpoint?: string;
}

export function regionalStsHost(region: string): string {
  return `sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

export async function presignCallerIdentity(request: CallerIdentityPresign): Promise<string> {
  const base = new URL(request.endpoint ?? `https://${regionalStsHost(request.region)}`);
  const signer = new SignatureV4({ credentials: request.credentials, region: request.region, service: 'sts', sha256: Hash.bind(null, 'sha256') });
  const unsigned = new HttpRequest({
    method: 'GET',
    protocol: base.protocol,
    hostname: base.hostname,
    ...(base.port ? { port: Number(base.port) } : {}),
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: base.host, [request.headerName]: request.headerValue },
  });
  const signed = await signer.presign(unsigned, { expiresIn: request.expiresInSeconds, signingDate: request.signingDate });
  return `${base.protocol}//${base.host}/?${sigV4QueryString(signed.query ?? {})}`;
}

/** RFC 3986 encoding, as SigV4 canonicalises it: encodeURIComponent leaves !'()* alone. */
export function sigV4QueryString(query: Record<string, string | string[] | null>): string {
  const escape = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.entries(query)
    .flatMap(([key, value]) => (value === null ? [] : (Array.isArray(value) ? value : [value]).map((v) => `${escape(key)}=${escape(v)}`)))
    .join('&');
}
