/**
 * The Kubernetes API, read for one thing: a Service's ready endpoints, from its EndpointSlices
 * (discovery.k8s.io/v1). node:https with the cluster's own CA and a bearer token; no client library,
 * because one paginated GET does not need one and functions stay small.
 *
 * Failures: 401/403 → ClusterAuthError; 5xx, 429, timeouts and connection failures are retried
 * (bounded, jittered backoff) and then → DependencyUnavailableError naming the cluster and verb.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { ClusterAuthError, DependencyUnavailableError, InternalError, NotFoundError } from '../../domain/errors.js';
import type { Endpoint } from '../../domain/mesh.js';
import type { Clock } from '../../ports/clock.js';

/** What it takes to call one cluster's API, as its cloud describes it. */
export interface ClusterAccess {
  /** crossfade's name for the cluster (crossfade.yaml `clusters[].name`), for errors. */
  cluster: string;
  /** `https://host[:port]`. Only https: the bearer token must never travel in clear. */
  apiUrl: string;
  /** PEM of the CA that signed the API server's certificate; the only CA trusted for this cluster. */
  caPem: string;
  bearerToken: string;
}

/** How one cloud (EKS, GKE) turns a configured cluster into ClusterAccess. */
export interface ClusterAccessSource<C> {
  /** Cached per cold start; throws ClusterAuthError, NotFoundError, DependencyUnavailableError. */
  access(cluster: C): Promise<ClusterAccess>;
  /** Drops what is cached for `clusterName`, so the next access() asks the cloud again. */
  forget(clusterName: string): void;
}

/**
 * What ClusterAccessSources cache per cold start: single-flight (concurrent discoveries of one
 * cluster share one DescribeCluster), with an expiry, and a failed load is never kept.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { expiresAtMs: number; value: Promise<V> }>();

  constructor(private readonly clock: Clock) {}

  get(key: string, ttlMs: number, load: () => Promise<V>): Promise<V> {
    const nowMs = this.clock.now().getTime();
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.expiresAtMs > nowMs) return entry.value;
    const value = load();
    this.entries.set(key, { expiresAtMs: nowMs + ttlMs, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

export interface KubernetesClientSettings {
  /** Per attempt: connect, TLS, headers and body together. */
  attemptTimeoutMs?: number;
  /** Attempts per page, the first included. */
  maxAttempts?: number;
  /** Backoff before attempt n+1 is uniform in [0, backoffBaseMs * 2^(n-1)], capped at 2 s ("full jitter"). */
  backoffBaseMs?: number;
  /** EndpointSlices per page (`limit`). */
  pageLimit?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface KubernetesClient {
  /** See ClusterProvider.discoverEndpoints for the contract; `port` is the endpoints' own port. */
  listReadyEndpoints(access: ClusterAccess, namespace: string, service: string, port: number): Promise<Endpoint[]>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/** The parts of discovery.k8s.io/v1 EndpointSliceList we read. Every field may be missing or null. */
interface EndpointSliceList {
  metadata?: { continue?: string | null } | null;
  items?: EndpointSlice[] | null;
}
interface EndpointSlice {
  addressType?: string;
  endpoints?: { addresses?: string[] | null; conditions?: { ready?: boolean | null } | null; zone?: string | null }[] | null;
  ports?: { name?: string; port?: number | null }[] | null;
}

const MAX_BACKOFF_MS = 2_000;
/** 1,000 pages of 100 slices of up to 100 endpoints: far past any real Service; a loop guard. */
const MAX_PAGES = 1_000;
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** FQDN slices name hosts, not IPs, and proxyless gRPC needs IP literals (mesh.ts Endpoint). */
const IP_ADDRESS_TYPES = new Set(['IPv4', 'IPv6']);
/** Certificate failures: retrying the same CA cannot help, but re-reading it from the cloud can. */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE',
]);

class AttemptTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

type Attempt = { kind: 'ok'; body: string } | { kind: 'expired' } | { kind: 'retry'; cause: Error; throttled: boolean } | { kind: 'fail'; error: Error };

export function createKubernetesClient(settings: KubernetesClientSettings = {}): KubernetesClient {
  const attemptTimeoutMs = settings.attemptTimeoutMs ?? 3_000;
  const maxAttempts = settings.maxAttempts ?? 3;
  const backoffBaseMs = settings.backoffBaseMs ?? 200;
  const pageLimit = settings.pageLimit ?? 100;
  const random = settings.random ?? Math.random;
  const sleep = settings.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  // Pages of one listing, and the next discovery of the same cluster, reuse one TLS connection.
  // The agent keys its pool by the per-request CA, so clusters never share a socket.
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  async function listReadyEndpoints(access: ClusterAccess, namespace: string, service: string, port: number): Promise<Endpoint[]> {
    const verb = `list EndpointSlices of ${namespace}/${service}`;
    if (!access.apiUrl.startsWith('https://')) {
      throw new InternalError(`cluster ${access.cluster}: API URL ${access.apiUrl} is not https; a bearer token never travels in clear`);
    }
    const slices = await listSlices(access, namespace, service, verb);
    return readyEndpoints(slices, port, `cluster ${access.cluster}: Service ${namespace}/${service}`);
  }

  async function listSlices(access: ClusterAccess, namespace: string, service: string, verb: string): Promise<EndpointSlice[]> {
    const base = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}&limit=${pageLimit}`;
    let slices: EndpointSlice[] = [];
    let continueToken: string | undefined;
    let restarted = false;
    for (let page = 0; page < MAX_PAGES; page++) {
      const path = continueToken === undefined ? base : `${base}&continue=${encodeURIComponent(continueToken)}`;
      const answer = await getWithRetries(access, path, verb);
      if (answer === 'expired') {
        // 410 Gone: the continue token outlived etcd's compaction. The API's advice is to list
        // again from the start; once, so a server that always answers 410 cannot loop us.
        if (continueToken === undefined || restarted) throw new InternalError(`Kubernetes API of cluster ${access.cluster}: ${verb} answered 410 Gone twice`);
        restarted = true;
        slices = [];
        continueToken = undefined;
        continue;
      }
      slices.push(...(answer.items ?? []));
      continueToken = answer.metadata?.continue || undefined;
      if (continueToken === undefined) return slices;
    }
    throw new InternalError(`Kubernetes API of cluster ${access.cluster}: ${verb} did not finish within ${MAX_PAGES} pages`);
  }

  async function getWithRetries(access: ClusterAccess, path: string, verb: string): Promise<EndpointSliceList | 'expired'> {
    const dependency = `Kubernetes API of cluster ${access.cluster}`;
    for (let attempt = 1; ; attempt++) {
      const outcome = await attemptOnce(access, path, verb);
      if (outcome.kind === 'ok') return parseList(outcome.body, dependency, verb);
      if (outcome.kind === 'expired') return 'expired';
      if (outcome.kind === 'fail') throw outcome.error;
      if (attempt >= maxAttempts) {
        throw new DependencyUnavailableError(dependency, `${verb} (${attempt} attempts)`, { cause: outcome.cause, throttled: outcome.throttled });
      }
      await sleep(Math.round(random() * Math.min(MAX_BACKOFF_MS, backoffBaseMs * 2 ** (attempt - 1))));
    }
  }

  async function attemptOnce(access: ClusterAccess, path: string, verb: string): Promise<Attempt> {
    let response: { status: number; body: string };
    try {
      response = await send(access, path);
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      if (error instanceof ResponseTooLargeError) {
        return { kind: 'fail', error: new InternalError(`Kubernetes API of cluster ${access.cluster}: ${verb}: ${error.message}`) };
      }
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && TLS_VERIFY_CODES.has(code)) {
        const mismatch = new Error(`the API server's certificate does not verify against the cluster's CA (${code})`, { cause });
        return { kind: 'fail', error: new DependencyUnavailableError(`Kubernetes API of cluster ${access.cluster}`, verb, { cause: mismatch }) };
      }
      // Anything else before a status line is the network: refused, reset, timed out, DNS.
      return { kind: 'retry', cause, throttled: false };
    }
    const { status, body } = response;
    if (status === 200) return { kind: 'ok', body };
    const detail = `HTTP ${status}${statusMessage(body)}`;
    if (status === 401 || status === 403) return { kind: 'fail', error: new ClusterAuthError(access.cluster, verb, detail) };
    if (status === 410) return { kind: 'expired' };
    if (status === 429 || status >= 500) return { kind: 'retry', cause: new Error(detail), throttled: status === 429 };
    return { kind: 'fail', error: new InternalError(`Kubernetes API of cluster ${access.cluster}: ${verb} answered ${detail}`) };
  }

  function send(access: ClusterAccess, path: string): Promise<{ status: number; body: string }> {
    const url = new URL(access.apiUrl.replace(/\/+$/, '') + path);
    return new Promise((resolve, reject) => {
      const headers = { authorization: `Bearer ${access.bearerToken}`, accept: 'application/json', 'user-agent': 'crossfade' };
      // Why we cut the request short, if we did: once the body has started, the response reports
      // a plain "aborted" reset, and the reason must not get lost.
      let abortedFor: Error | undefined;
      const abort = (reason: Error) => {
        abortedFor ??= reason;
        request.destroy(reason);
      };
      const request = httpsRequest(url, { method: 'GET', agent, ca: access.caPem, headers }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) abort(new ResponseTooLargeError(`answer larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      // One deadline for the whole attempt: a server that accepts and then says nothing (or
      // drips) must not hold a function until its own timeout kills it.
      const timer = setTimeout(() => abort(new AttemptTimeoutError(`no complete answer within ${attemptTimeoutMs} ms`)), attemptTimeoutMs);
      request.on('error', fail);
      request.end();
      function fail(error: Error): void {
        clearTimeout(timer);
        reject(abortedFor ?? error);
      }
    });
  }

  return { listReadyEndpoints, close: () => agent.destroy() };
}

function parseList(body: string, dependency: string, verb: string): EndpointSliceList {
  try {
    const list = JSON.parse(body) as EndpointSliceList | null;
    if (list !== null && typeof list === 'object' && (list.items === undefined || list.items === null || Array.isArray(list.items))) return list;
  } catch {
    // falls through: an HTML error page from a proxy in front of the API, a truncated body
  }
  throw new InternalError(`${dependency}: ${verb} answered 200 with a body that is not an EndpointSliceList`);
}

/** `: <message>` from a Kubernetes Status body (`{"kind":"Status","message":...}`), or nothing. */
function statusMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: unknown } | null;
    return typeof status?.message === 'string' ? `: ${status.message.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}

/**
 * The ready endpoints on `port` across every slice of a Service, deduplicated and sorted.
 *
 * - A slice's ports are the endpoints' own (target) ports; match by number, which is what a
 *   VersionTarget carries. A Service with several ports therefore needs no port name.
 * - `conditions.ready` absent or null means ready (the EndpointSlice API says "unknown state …
 *   should be interpreted as ready"); terminating pods have `ready: false`.
 * - Only the first address of an endpoint: "these are all assumed to be fungible and clients may
 *   choose to only use the first element" (discovery.k8s.io/v1 Endpoint.addresses).
 * - An endpoint can sit in two slices while the controller rebalances them: kept once.
 */
function readyEndpoints(slices: readonly EndpointSlice[], port: number, subject: string): Endpoint[] {
  // The controller keeps a placeholder slice even for a Service with no pod, so no slice at all
  // means no Service (or one without a selector, which crossfade cannot discover).
  if (slices.length === 0) throw new NotFoundError(`${subject} has no EndpointSlice: the Service does not exist or has no selector`);
  const listedPorts = new Set<number>();
  const found = new Map<string, Endpoint>();
  for (const slice of slices) {
    const ports = (slice.ports ?? []).flatMap((p) => (typeof p.port === 'number' ? [p.port] : []));
    ports.forEach((p) => listedPorts.add(p));
    if (!ports.includes(port) || !IP_ADDRESS_TYPES.has(slice.addressType ?? '')) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const address = endpoint.addresses?.[0];
      if (endpoint.conditions?.ready === false || address === undefined || isIP(address) === 0) continue;
      if (!found.has(address)) found.set(address, { address, port, zone: endpoint.zone ?? null });
    }
  }
  // Slices that list ports, none of them this one: the target names the Service's port rather than
  // the pods', or a typo. Returning [] would register a version that can never take traffic.
  if (listedPorts.size > 0 && !listedPorts.has(port)) {
    throw new NotFoundError(`${subject} has no endpoint port ${port} (its EndpointSlices list ${[...listedPorts].sort((a, b) => a - b).join(', ')})`);
  }
  return [...found.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
