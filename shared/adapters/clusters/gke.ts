/**
 * GKE clusters: getCluster for the API endpoint and CA, and a Google OAuth access token as the
 * Kubernetes bearer token (what the gke-gcloud-auth-plugin hands kubectl). The token comes from
 * google-auth-library, which caches it and renews it before it expires, so it is not cached here.
 */
import type { ClusterManagerClient } from '@google-cloud/container';
import { GoogleAuth, type AuthClient } from 'google-auth-library';
import type { ClusterConfig } from '../../domain/config.js';
import { ClusterAuthError, DependencyUnavailableError, InternalError, NotFoundError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import { missingCredentials, NoCredentialSource, type MissingGoogleCredentials } from './credentials.js';
import { ExpiringCache, type ClusterAccess, type ClusterAccessSource } from './kubernetes.js';
import { commonJs } from '../first-use-import.js';

export type GcpClusterConfig = Extract<ClusterConfig, { cloud: 'gcp' }>;

export interface GkeAccessSettings {
  clock: Clock;
  /**
   * The identity for getCluster and for the clusters themselves. Default: Application Default
   * Credentials (a function's service account) with the cloud-platform scope. See credentials.ts.
   */
  auth?: GoogleAuth | AuthClient | MissingGoogleCredentials;
  /** Tests only: a fake GKE API, `http://127.0.0.1:PORT`. Default: container.googleapis.com. */
  apiEndpoint?: string;
  /** How long a cluster's endpoint and CA are trusted before getCluster runs again. */
  clusterInfoTtlMs?: number;
  /** Total for one getCluster, retries included (the library's default is 600 s). */
  requestTimeoutMs?: number;
}

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** gRPC status codes, which google-gax reports for REST calls too. */
const Code = { NotFound: 5, PermissionDenied: 7, Unauthenticated: 16 } as const;
const TRANSIENT_CODES = new Set([4, 8, 10, 13, 14]); // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

interface ClusterInfo {
  apiUrl: string;
  caPem: string;
}

export function createGkeAccess(settings: GkeAccessSettings): ClusterAccessSource<GcpClusterConfig> & { close(): Promise<void> } {
  const auth = settings.auth ?? new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
  const infos = new ExpiringCache<ClusterInfo>(settings.clock);
  const clusterInfoTtlMs = settings.clusterInfoTtlMs ?? 30 * 60_000;
  let manager: ClusterManagerClient | undefined;

  // Built on first use. REST ("fallback") rather than gRPC: a function holds no HTTP/2 channel
  // between invocations, and the REST transport needs no native or proto-loading start-up.
  // Imported on first use too: the library and its protos are ~5 MB of code, which the bundles
  // keep in a chunk of their own (scripts/build.ts) that only a GKE lookup loads.
  async function client(): Promise<ClusterManagerClient> {
    if (manager === undefined) {
      const { ClusterManagerClient } = commonJs(await import('@google-cloud/container'));
      const override = settings.apiEndpoint === undefined ? undefined : new URL(settings.apiEndpoint);
      manager = new ClusterManagerClient({
        fallback: true,
        // google-gax carries its own copy of google-auth-library; it only calls getClient() /
        // getRequestHeaders(), which both versions share.
        authClient: auth as never,
        ...(override && { protocol: override.protocol.replace(':', ''), apiEndpoint: override.hostname, port: Number(override.port) }),
      });
    }
    return manager;
  }

  async function describe(cluster: GcpClusterConfig): Promise<ClusterInfo> {
    const name = resourceName(cluster);
    const verb = `getCluster ${name}`;
    let answer;
    try {
      [answer] = await (await client()).getCluster({ name }, { timeout: settings.requestTimeoutMs ?? 10_000, maxRetries: 2 });
    } catch (error) {
      throw gkeFailure(error, cluster, verb);
    }
    const endpoint = answer.endpoint;
    const caData = answer.masterAuth?.clusterCaCertificate;
    if (!endpoint || !caData) {
      const cause = new Error(`cluster status ${String(answer.status ?? 'unknown')}: no API endpoint or CA yet`);
      throw new DependencyUnavailableError(`GKE cluster ${name} (crossfade cluster ${cluster.name})`, verb, { cause });
    }
    // GKE answers a bare IP address (the public endpoint); the API listens on 443.
    const apiUrl = endpoint.includes('://') ? endpoint : `https://${endpoint}`;
    return { apiUrl, caPem: Buffer.from(caData, 'base64').toString('utf8') };
  }

  async function accessToken(cluster: GcpClusterConfig): Promise<string> {
    const verb = 'get a Google access token';
    let answer: string | null | undefined | { token?: string | null };
    try {
      answer = await auth.getAccessToken();
    } catch (error) {
      if (error instanceof NoCredentialSource) throw missingCredentials(cluster.name, error);
      if (isNetworkFailure(error) || httpStatusOf(error) >= 500) {
        throw new DependencyUnavailableError(`Google OAuth (crossfade cluster ${cluster.name})`, verb, { cause: error });
      }
      throw new ClusterAuthError(cluster.name, verb, error instanceof Error ? error.message : String(error), { cause: error });
    }
    const token = typeof answer === 'string' ? answer : answer?.token;
    if (!token) throw new ClusterAuthError(cluster.name, verb, 'the Google credentials gave no access token');
    return token;
  }

  return {
    async access(cluster: GcpClusterConfig): Promise<ClusterAccess> {
      // The token first: without credentials, getCluster would fail with a less telling error.
      const bearerToken = await accessToken(cluster);
      const info = await infos.get(cluster.name, clusterInfoTtlMs, () => describe(cluster));
      return { cluster: cluster.name, apiUrl: info.apiUrl, caPem: info.caPem, bearerToken };
    },
    forget(clusterName: string): void {
      infos.delete(clusterName);
    },
    async close(): Promise<void> {
      await manager?.close();
      manager = undefined;
    },
  };
}

function resourceName(cluster: GcpClusterConfig): string {
  return `projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.gkeClusterName ?? cluster.name}`;
}

/** Turns a google-gax failure into the project's error, naming the crossfade cluster and the verb. */
function gkeFailure(error: unknown, cluster: GcpClusterConfig, verb: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === Code.PermissionDenied || code === Code.Unauthenticated) return new ClusterAuthError(cluster.name, verb, message, { cause: error });
  if (code === Code.NotFound) {
    return new NotFoundError(`cluster ${cluster.name}: GKE has no cluster ${resourceName(cluster)} (crossfade.yaml clusters[].gkeClusterName)`, { cause: error });
  }
  if ((typeof code === 'number' && TRANSIENT_CODES.has(code)) || isNetworkFailure(error)) {
    return new DependencyUnavailableError(`GKE API (crossfade cluster ${cluster.name})`, verb, { cause: error, throttled: code === 8 });
  }
  return new InternalError(`cluster ${cluster.name}: ${verb} failed: ${message}`, { cause: error });
}

function isNetworkFailure(error: unknown): boolean {
  const withCode = error as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = withCode?.code ?? withCode?.cause?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

function httpStatusOf(error: unknown): number {
  const status = (error as { response?: { status?: unknown } } | null)?.response?.status;
  return typeof status === 'number' ? status : 0;
}
