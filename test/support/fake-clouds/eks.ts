/**
 * A fake of the EKS API (restJson1) on loopback: `DescribeCluster` is `GET /clusters/<name>`,
 * answered as EKS answers it; errors carry their type in `x-amzn-errortype`, which is what the SDK
 * turns into the error's name. Requests must be SigV4-signed for service `eks`.
 */
import { createServer, type ServerResponse } from 'node:http';
import { listenOnLoopback, record, type RecordedRequest } from './loopback.js';

export interface FakeEksCluster {
  name: string;
  region: string;
  /** The Kubernetes API, `https://127.0.0.1:PORT` (a real one is `https://<id>.gr7.<region>.eks.amazonaws.com`). */
  endpoint: string;
  caPem: string;
}

export interface FakeEks {
  /** For EKSClient's `endpoint`. */
  endpoint: string;
  requests: RecordedRequest[];
  addCluster(cluster: FakeEksCluster): void;
  /** DescribeCluster of `name` answers 403 AccessDeniedException from now on. */
  denyAccessTo(name: string): void;
  /** Forgets recorded requests and denials; keeps clusters. */
  reset(): void;
  stop(): Promise<void>;
}

const ACCOUNT = '111122223333';

export async function startFakeEks(): Promise<FakeEks> {
  const clusters = new Map<string, FakeEksCluster>();
  const denied = new Set<string>();
  const requests: RecordedRequest[] = [];

  const server = createServer((request, response) => {
    const seen = record(request, requests);
    const authorization = String(request.headers.authorization ?? '');
    if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/eks\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/.test(authorization)) {
      return fail(response, 403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const match = /^\/clusters\/([^/]+)$/.exec(seen.path);
    if (request.method !== 'GET' || match === null) return fail(response, 404, 'UnknownOperationException', `no route ${request.method} ${seen.path}`);
    const name = decodeURIComponent(match[1]!);
    const cluster = clusters.get(name);
    const arn = `arn:aws:eks:${cluster?.region ?? 'us-east-1'}:${ACCOUNT}:cluster/${name}`;
    if (denied.has(name)) {
      return fail(response, 403, 'AccessDeniedException', `User: arn:aws:sts::${ACCOUNT}:assumed-role/crossfade/fn is not authorized to perform: eks:DescribeCluster on resource: ${arn}`);
    }
    if (cluster === undefined) return fail(response, 404, 'ResourceNotFoundException', `No cluster found for name: ${name}.`, { clusterName: name });
    send(response, 200, { cluster: describe(cluster, arn) });
  });
  const { port, stop } = await listenOnLoopback(server);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    addCluster: (cluster) => void clusters.set(cluster.name, cluster),
    denyAccessTo: (name) => void denied.add(name),
    reset: () => {
      requests.length = 0;
      denied.clear();
    },
    stop,
  };
}

/** DescribeCluster's `cluster`, with the fields a real ACTIVE cluster has. */
function describe(cluster: FakeEksCluster, arn: string): Record<string, unknown> {
  return {
    name: cluster.name,
    arn,
    createdAt: 1_735_689_600.123,
    version: '1.32',
    endpoint: cluster.endpoint,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/eks-cluster-role`,
    resourcesVpcConfig: { subnetIds: ['subnet-0a1b2c3d'], securityGroupIds: [], clusterSecurityGroupId: 'sg-0a1b2c3d', vpcId: 'vpc-0a1b2c3d', endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
    logging: { clusterLogging: [{ types: ['api', 'audit'], enabled: false }] },
    identity: { oidc: { issuer: `https://oidc.eks.${cluster.region}.amazonaws.com/id/0123456789ABCDEF` } },
    status: 'ACTIVE',
    certificateAuthority: { data: Buffer.from(cluster.caPem, 'utf8').toString('base64') },
    platformVersion: 'eks.5',
    tags: {},
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
  };
}

function fail(response: ServerResponse, status: number, type: string, message: string, extra: Record<string, unknown> = {}): void {
  response.setHeader('x-amzn-errortype', type);
  send(response, status, { message, ...extra });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': crypto.randomUUID() });
  response.end(text);
}
