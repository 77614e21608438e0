/**
 * EKS clusters: DescribeCluster for the API endpoint and CA, and a bearer token made exactly as
 * `aws eks get-token` makes it. The cluster's authenticator hands the token's presigned STS
 * GetCallerIdentity URL to STS, which answers with our IAM identity; the signed `x-k8s-aws-id`
 * header binds the token to one cluster. https://github.com/kubernetes-sigs/aws-iam-authenticator#api-authorization-from-outside-a-cluster
 */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import type { ClusterConfig } from '../../domain/config.js';
import { ClusterAuthError, DependencyUnavailableError, InternalError, NotFoundError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import { presignCallerIdentity, type AwsCredentials } from '../identity/sts-presign.js';
import { missingCredentials, NoCredentialSource } from './credentials.js';
import { ExpiringCache, type ClusterAccess, type ClusterAccessSource } from './kubernetes.js';

export type AwsClusterConfig = Extract<ClusterConfig, { cloud: 'aws' }>;

export type { AwsCredentials };

/** Returns current credentials; called for every new token, so it may rotate them. */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface EksAccessSettings {
  clock: Clock;
  /** Default: the SDK's default chain (the Lambda's role, environment, profile). Also used for DescribeCluster. See credentials.ts. */
  credentials?: AwsCredentialsProvider;
  /** Tests only: the EKS API of a fake, `http://127.0.0.1:PORT`. Default: the regional EKS endpoint. */
  endpoint?: string;
  /** How long a cluster's endpoint and CA are trusted before DescribeCluster runs again. */
  clusterInfoTtlMs?: number;
  /** Per attempt, for DescribeCluster (the SDK makes up to 3). */
  requestTimeoutMs?: number;
}

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** EKS accepts a token for 15 minutes from its signing, whatever X-Amz-Expires says; renew with margin. */
const TOKEN_REUSE_MS = 10 * 60_000;
/** What `aws eks get-token` presigns with; the authenticator rejects longer ones. */
const PRESIGN_EXPIRES_SECONDS = 60;

const AUTH_FAILURES = new Set([
  'AccessDeniedException', 'UnauthorizedException', 'UnrecognizedClientException', 'InvalidSignatureException',
  'ExpiredTokenException', 'InvalidClientTokenId',
]);
const TRANSIENT_FAILURES = new Set(['ServerException', 'ServiceUnavailableException', 'ThrottlingException', 'TooManyRequestsException', 'TimeoutError', 'RequestTimeout']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

interface ClusterInfo {
  apiUrl: string;
  caPem: string;
}

export function createEksAccess(settings: EksAccessSettings): ClusterAccessSource<AwsClusterConfig> & { close(): void } {
  const clients = new Map<string, EKSClient>();
  const infos = new ExpiringCache<ClusterInfo>(settings.clock);
  const tokens = new ExpiringCache<string>(settings.clock);
  const clusterInfoTtlMs = settings.clusterInfoTtlMs ?? 30 * 60_000;

  // EKS is regional; one client per region, built on first use and kept for the cold start.
  function clientFor(region: string): EKSClient {
    let client = clients.get(region);
    if (client === undefined) {
      const timeoutMs = settings.requestTimeoutMs ?? 5_000;
      client = new EKSClient({
        region,
        endpoint: settings.endpoint,
        credentials: settings.credentials,
        maxAttempts: 3,
        requestHandler: { connectionTimeout: Math.min(timeoutMs, 3_000), requestTimeout: timeoutMs },
      });
      clients.set(region, client);
    }
    return client;
  }

  async function describe(cluster: AwsClusterConfig): Promise<ClusterInfo> {
    const eksName = eksNameOf(cluster);
    const verb = `DescribeCluster ${eksName} in ${cluster.region}`;
    let answer;
    try {
      answer = await clientFor(cluster.region).send(new DescribeClusterCommand({ name: eksName }));
    } catch (error) {
      throw eksFailure(error, cluster, verb);
    }
    const endpoint = answer.cluster?.endpoint;
    const caData = answer.cluster?.certificateAuthority?.data;
    if (!endpoint || !caData) {
      // A cluster still being created has neither yet: worth asking again later.
      const cause = new Error(`cluster status ${answer.cluster?.status ?? 'unknown'}: no API endpoint or CA yet`);
      throw new DependencyUnavailableError(`EKS cluster ${eksName} (crossfade cluster ${cluster.name})`, verb, { cause });
    }
    return { apiUrl: endpoint, caPem: Buffer.from(caData, 'base64').toString('utf8') };
  }

  async function token(cluster: AwsClusterConfig): Promise<string> {
    let credentials: AwsCredentials;
    try {
      // The client's resolved provider: the injected one or the default chain, memoised by the SDK
      // and refreshed before temporary credentials expire.
      credentials = await clientFor(cluster.region).config.credentials();
    } catch (error) {
      throw eksFailure(error, cluster, 'sign a Kubernetes token');
    }
    return createEksToken({ eksClusterName: eksNameOf(cluster), region: cluster.region, credentials, signingDate: settings.clock.now() });
  }

  return {
    async access(cluster: AwsClusterConfig): Promise<ClusterAccess> {
      const [info, bearerToken] = await Promise.all([
        infos.get(cluster.name, clusterInfoTtlMs, () => describe(cluster)),
        tokens.get(cluster.name, TOKEN_REUSE_MS, () => token(cluster)),
      ]);
      return { cluster: cluster.name, apiUrl: info.apiUrl, caPem: info.caPem, bearerToken };
    },
    forget(clusterName: string): void {
      infos.delete(clusterName);
      tokens.delete(clusterName);
    },
    close(): void {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  };
}

export interface EksTokenRequest {
  /** The cluster's name in EKS, which the authenticator compares with `x-k8s-aws-id`. */
  eksClusterName: string;
  region: string;
  credentials: AwsCredentials;
  signingDate: Date;
}

/**
 * `k8s-aws-v1.` + base64url (unpadded) of a presigned `GET https://sts.<region>.amazonaws.com/
 * ?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-...` whose SigV4 signature covers the
 * `host` and `x-k8s-aws-id` headers. Same as aws-cli's `aws eks get-token` (awscli/customizations/eks/get_token.py).
 */
export async function createEksToken(request: EksTokenRequest): Promise<string> {
  const url = await presignCallerIdentity({
    region: request.region,
    credentials: request.credentials,
    headerName: CLUSTER_ID_HEADER,
    headerValue: request.eksClusterName,
    signingDate: request.signingDate,
    expiresInSeconds: PRESIGN_EXPIRES_SECONDS,
  });
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

function eksNameOf(cluster: AwsClusterConfig): string {
  return cluster.eksClusterName ?? cluster.name;
}

/** Turns an SDK failure into the project's error, naming the crossfade cluster and the verb. */
function eksFailure(error: unknown, cluster: AwsClusterConfig, verb: string): Error {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  // No credentials to sign with is not a refusal: nobody was asked.
  if (error instanceof NoCredentialSource) return missingCredentials(cluster.name, error);
  if (name === 'CredentialsProviderError') return missingCredentials(cluster.name, new NoCredentialSource('aws', message));
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  const withCode = error as { code?: string; cause?: { code?: string } } | null;
  if (AUTH_FAILURES.has(name) || status === 401 || status === 403) {
    return new ClusterAuthError(cluster.name, verb, `${name || 'Error'}: ${message}`, { cause: error });
  }
  if (name === 'ResourceNotFoundException' || status === 404) {
    return new NotFoundError(`cluster ${cluster.name}: EKS has no cluster "${eksNameOf(cluster)}" in ${cluster.region} (crossfade.yaml clusters[].eksClusterName)`, { cause: error });
  }
  const networkCode = withCode?.code ?? withCode?.cause?.code ?? '';
  if (TRANSIENT_FAILURES.has(name) || (status !== undefined && status >= 500) || status === 429 || NETWORK_CODES.has(networkCode)) {
    return new DependencyUnavailableError(`EKS API in ${cluster.region} (crossfade cluster ${cluster.name})`, verb, { cause: error, throttled: name.includes('Throttl') || status === 429 });
  }
  return new InternalError(`cluster ${cluster.name}: ${verb} failed: ${name || 'Error'}: ${message}`, { cause: error });
}
