/**
 * A fake of the GKE API's REST surface on loopback, as @google-cloud/container's REST ("fallback")
 * transport calls it: `GET /v1/projects/<p>/locations/<l>/clusters/<c>?$alt=json;enum-encoding=int`
 * with `Authorization: Bearer <token>`. Errors are Google's JSON error envelope.
 */
import { createServer, type ServerResponse } from 'node:http';
import { listenOnLoopback, record, type RecordedRequest } from './loopback.js';

export interface FakeGkeCluster {
  project: string;
  location: string;
  name: string;
  /** What GKE reports as `endpoint`: a bare IP in reality; here `127.0.0.1:PORT` of a Kubernetes fake. */
  endpoint: string;
  caPem: string;
}

export interface FakeGke {
  /** For the client's API endpoint override. */
  endpoint: string;
  /** The only bearer token the fake (and the GKE Kubernetes fakes) accept. */
  accessToken: string;
  requests: RecordedRequest[];
  addCluster(cluster: FakeGkeCluster): void;
  /** getCluster of `name` answers 403 PERMISSION_DENIED from now on. */
  denyAccessTo(name: string): void;
  /** Forgets recorded requests and denials; keeps clusters. */
  reset(): void;
  stop(): Promise<void>;
}

/** google.container.v1.Cluster.Status.RUNNING, for callers that ask for numeric enums. */
const RUNNING = 2;

export async function startFakeGke(accessToken = 'ya29.fake-gke-access-token'): Promise<FakeGke> {
  const clusters = new Map<string, FakeGkeCluster>();
  const denied = new Set<string>();
  const requests: RecordedRequest[] = [];

  const server = createServer((request, response) => {
    const seen = record(request, requests);
    if (request.headers.authorization !== `Bearer ${accessToken}`) {
      return fail(response, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
    }
    const match = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/clusters\/([^/]+))$/.exec(seen.path);
    if (request.method !== 'GET' || match === null) return fail(response, 404, 'NOT_FOUND', `no route ${request.method} ${seen.path}`);
    const [, resource, name] = match as unknown as [string, string, string];
    if (denied.has(name)) return fail(response, 403, 'PERMISSION_DENIED', `Required "container.clusters.get" permission(s) for "${resource}".`);
    const cluster = clusters.get(resource);
    if (cluster === undefined) return fail(response, 404, 'NOT_FOUND', `Not found: ${resource}.`);
    const numericEnums = (seen.query.get('$alt') ?? '').includes('enum-encoding=int');
    send(response, 200, describe(cluster, numericEnums));
  });
  const { port, stop } = await listenOnLoopback(server);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessToken,
    requests,
    addCluster: (cluster) => void clusters.set(`projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`, cluster),
    denyAccessTo: (name) => void denied.add(name),
    reset: () => {
      requests.length = 0;
      denied.clear();
    },
    stop,
  };
}

/** The fields of a RUNNING regional cluster that matter, plus enough of the rest to look real. */
function describe(cluster: FakeGkeCluster, numericEnums: boolean): Record<string, unknown> {
  return {
    name: cluster.name,
    location: cluster.location,
    locations: [`${cluster.location}-a`, `${cluster.location}-b`, `${cluster.location}-c`],
    selfLink: `https://container.googleapis.com/v1/projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`,
    endpoint: cluster.endpoint,
    masterAuth: { clusterCaCertificate: Buffer.from(cluster.caPem, 'utf8').toString('base64') },
    status: numericEnums ? RUNNING : 'RUNNING',
    currentMasterVersion: '1.32.2-gke.1182003',
    network: 'default',
    subnetwork: 'default',
    clusterIpv4Cidr: '10.8.0.0/14',
    servicesIpv4Cidr: '34.118.224.0/20',
    createTime: '2025-01-01T00:00:00+00:00',
  };
}

function fail(response: ServerResponse, code: number, status: string, message: string): void {
  send(response, code, { error: { code, message, status } });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
