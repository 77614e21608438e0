/**
 * A fake Kubernetes API server on loopback, over real TLS (a certificate from the test CA), serving
 * the one call discovery makes: `GET /apis/discovery.k8s.io/v1/namespaces/<ns>/endpointslices
 * ?labelSelector=kubernetes.io/service-name=<svc>&limit=&continue=`, with EndpointSliceList JSON as
 * the API server writes it (empty lists are `null`, errors are `Status` objects).
 *
 * It checks the bearer token the way each cloud's authenticator would see it, and can be scripted
 * to fail: N× a status, a response that never comes, a reset connection, small pages.
 */
import { createServer } from 'node:https';
import type { ServerResponse } from 'node:http';
import { listenOnLoopback, record, type RecordedRequest, type TestCertificates } from './loopback.js';

/** How the fake authenticates: EKS presigned-STS tokens for a region, or one exact bearer token (GKE). */
export type FakeKubernetesAuth = { kind: 'eks'; region: string } | { kind: 'bearer'; token: string };

export type KubernetesFault =
  | { kind: 'pass' }
  | { kind: 'status'; status: number }
  /** Accept the request and never answer. */
  | { kind: 'hang' }
  /** Close the connection without a response. */
  | { kind: 'reset' };

export interface SliceEndpoint {
  address: string;
  /** undefined: `conditions.ready` omitted, which the API defines as ready. */
  ready?: boolean;
  zone?: string;
}

export interface FakeKubernetes {
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, the way GKE reports a cluster's endpoint (without a scheme). */
  hostPort: string;
  requests: RecordedRequest[];
  setSlices(namespace: string, service: string, slices: readonly object[]): void;
  /** The next requests fail this way, one fault each, in order (`pass` lets one through). */
  queueFaults(...faults: KubernetesFault[]): void;
  /** Every request fails this way until reset(). */
  failAlways(fault: KubernetesFault): void;
  /** Pages hold at most this many slices, whatever `limit` asks (the API may return fewer). */
  setPageSize(slices: number): void;
  /** Forgets requests, faults and page size; keeps slices. */
  reset(): void;
  stop(): Promise<void>;
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 410: 'Expired', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable' };
const LIST_PATH = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/;

export async function startFakeKubernetes(tls: TestCertificates, auth: FakeKubernetesAuth): Promise<FakeKubernetes> {
  const slicesByService = new Map<string, readonly object[]>();
  const requests: RecordedRequest[] = [];
  let queued: KubernetesFault[] = [];
  let always: KubernetesFault | undefined;
  let pageSize = Number.POSITIVE_INFINITY;

  const server = createServer({ key: tls.serverKeyPem, cert: tls.serverCertPem }, (request, response) => {
    const seen = record(request, requests);
    const token = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    const refused = token === undefined ? 'no bearer token' : auth.kind === 'eks' ? eksTokenProblem(token, auth.region) : token === auth.token ? undefined : 'unknown token';
    if (refused !== undefined) return sendStatus(response, 401, `Unauthorized (${refused})`);

    const fault = queued.shift() ?? always ?? { kind: 'pass' };
    if (fault.kind === 'hang') return;
    if (fault.kind === 'reset') return void request.socket.destroy();
    if (fault.kind === 'status') return sendStatus(response, fault.status, fault.status === 403 ? 'endpointslices.discovery.k8s.io is forbidden: User "crossfade" cannot list resource "endpointslices" in API group "discovery.k8s.io"' : `scripted ${fault.status}`);

    const namespace = LIST_PATH.exec(seen.path)?.[1];
    const service = /^kubernetes\.io\/service-name=(.+)$/.exec(seen.query.get('labelSelector') ?? '')?.[1];
    if (request.method !== 'GET' || namespace === undefined || service === undefined) return sendStatus(response, 404, `the server could not find the requested resource (${seen.path})`);
    const all = slicesByService.get(`${namespace}/${service}`) ?? [];
    const offset = seen.query.has('continue') ? decodeContinue(seen.query.get('continue')!, namespace, service) : 0;
    if (offset === undefined) return sendStatus(response, 400, 'continue key is not valid for this list');
    const limit = Number(seen.query.get('limit') ?? 0) || Number.POSITIVE_INFINITY;
    const end = Math.min(all.length, offset + Math.min(limit, pageSize));
    const metadata: Record<string, unknown> = { resourceVersion: '48213' };
    if (end < all.length) {
      metadata['continue'] = Buffer.from(JSON.stringify({ namespace, service, offset: end })).toString('base64url');
      metadata['remainingItemCount'] = all.length - end;
    }
    send(response, 200, { kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata, items: all.slice(offset, end) });
  });
  const { port, stop } = await listenOnLoopback(server);

  return {
    url: `https://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    requests,
    setSlices: (namespace, service, slices) => void slicesByService.set(`${namespace}/${service}`, slices),
    queueFaults: (...faults) => void queued.push(...faults),
    failAlways: (fault) => void (always = fault),
    setPageSize: (slices) => void (pageSize = slices),
    reset: () => {
      requests.length = 0;
      queued = [];
      always = undefined;
      pageSize = Number.POSITIVE_INFINITY;
    },
    stop,
  };
}

let sliceCount = 0;

/** An EndpointSlice as the EndpointSlice controller writes it for Service `service`. */
export function endpointSlice(
  service: string,
  options: { name?: string; namespace?: string; addressType?: 'IPv4' | 'IPv6' | 'FQDN'; ports: { name?: string; port: number }[]; endpoints: SliceEndpoint[] },
): object {
  const name = options.name ?? `${service}-${(sliceCount++).toString(36).padStart(5, '0')}`;
  return {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: {
      name,
      generateName: `${service}-`,
      namespace: options.namespace ?? 'default',
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service, uid: '8d5c7f4e-0000-4000-8000-000000000001', controller: true, blockOwnerDeletion: true }],
    },
    addressType: options.addressType ?? 'IPv4',
    // The API server writes an empty list as null (Go nil slice, no omitempty).
    endpoints: options.endpoints.length === 0 ? null : options.endpoints.map((endpoint, index) => ({
      addresses: [endpoint.address],
      conditions: endpoint.ready === undefined ? {} : { ready: endpoint.ready, serving: endpoint.ready, terminating: !endpoint.ready },
      ...(endpoint.zone !== undefined && { zone: endpoint.zone }),
      nodeName: `node-${index}`,
      targetRef: { kind: 'Pod', namespace: options.namespace ?? 'default', name: `${service}-pod-${index}`, uid: `0000000${index}-0000-4000-8000-000000000000` },
    })),
    ports: options.ports.length === 0 ? null : options.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: 'TCP' })),
  };
}

/**
 * Why an EKS token would not reach STS, or undefined when it would: `k8s-aws-v1.` + unpadded
 * base64url of a presigned GetCallerIdentity URL at the region's STS whose signature covers
 * `x-k8s-aws-id` (aws-iam-authenticator checks the same before calling STS).
 */
export function eksTokenProblem(token: string, region: string): string | undefined {
  const prefix = 'k8s-aws-v1.';
  if (!token.startsWith(prefix)) return 'no k8s-aws-v1. prefix';
  const encoded = token.slice(prefix.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return 'not unpadded base64url';
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return 'does not decode to a URL';
  }
  if (url.protocol !== 'https:' || url.host !== `sts.${region}.amazonaws.com` || url.pathname !== '/') return `not the STS of ${region}: ${url.origin}${url.pathname}`;
  const query = url.searchParams;
  if (query.get('Action') !== 'GetCallerIdentity' || query.get('Version') !== '2011-06-15') return 'not GetCallerIdentity 2011-06-15';
  if (!/^[0-9a-f]{64}$/.test(query.get('X-Amz-Signature') ?? '')) return 'no X-Amz-Signature';
  if (!(query.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id')) return 'x-k8s-aws-id is not signed';
  return undefined;
}

function decodeContinue(token: string, namespace: string, service: string): number | undefined {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { namespace?: string; service?: string; offset?: number };
    return decoded.namespace === namespace && decoded.service === service && typeof decoded.offset === 'number' ? decoded.offset : undefined;
  } catch {
    return undefined;
  }
}

function sendStatus(response: ServerResponse, code: number, message: string): void {
  send(response, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown', code });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
