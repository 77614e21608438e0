/**
 * A real proxyless gRPC client (@grpc/grpc-js-xds) resolving `xds:///echo` through crossfade's ADS
 * server, against one echo backend per (version, cloud), all on 127.0.0.1. The client is in the
 * aws proxy group, so aws localities are its priority 0. gRPC picks clusters and localities at
 * random: splits are asserted within ±3 percentage points, never exactly. No timing is asserted:
 * waits poll the server's ACK record with a deadline.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdsServer, type AdsServer, type XdsAck, type XdsNack } from '../../shared/adapters/xds/ads-server.js';
import { decodeResource, messageType } from '../../shared/adapters/xds/proto.js';
import { ValidationError } from '../../shared/domain/errors.js';
import type { ClusterEndpoints, RegisteredVersion, Split } from '../../shared/domain/mesh.js';
import { assertConsistent } from '../../shared/engine/envoy/consistency.js';
import { groupOfNode } from '../../shared/engine/envoy/discovery.js';
import { assembleSnapshot, buildSnapshot, XdsType, type Snapshot, type XdsResource, type XdsTypeUrl } from '../../shared/engine/envoy/snapshot.js';

// grpc-js-xds registers its resolver and balancers once per process.
register();

const SERVICE = 'echo';
const NODE_ID = 'grpc-client-aws-1';
const RPCS = 2000;
const TOLERANCE_PERCENT = 3;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const group = { name: 'grpc-aws-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: NODE_ID }] } as const;

type Backend = `${'v1' | 'v2'}-${'aws' | 'gcp'}`;
const BACKENDS: Backend[] = ['v1-aws', 'v1-gcp', 'v2-aws', 'v2-gcp'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const echoPackage = grpc.loadPackageDefinition(loadSync(join(import.meta.dirname, '../support/echo.proto'), { keepCase: true })) as any;
const EchoClient = echoPackage.crossfade.test.Echo as typeof grpc.Client;
const echoService = echoPackage.crossfade.test.Echo.service as grpc.ServiceDefinition;

const servers: grpc.Server[] = [];
const ports = new Map<Backend, number>();
const acks: XdsAck[] = [];
const nacks: XdsNack[] = [];
let ads: AdsServer;
let client: grpc.Client;
/** Lets the NACK test publish what the consistency check would refuse; nothing else sets it. */
let skipCheck = false;

async function startBackend(backend: Backend): Promise<number> {
  const server = new grpc.Server();
  server.addService(echoService, { Say: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, done: grpc.sendUnaryData<unknown>) => done(null, { backend, text: call.request.text }) });
  servers.push(server);
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))));
}

function registration(version: 'v1' | 'v2', clouds: readonly ('aws' | 'gcp')[]): RegisteredVersion {
  const clusters: ClusterEndpoints[] = clouds.map((cloud) => ({
    cloud,
    cluster: cloud === 'aws' ? 'eks-use1' : 'gke-usc1',
    region: cloud === 'aws' ? 'us-east-1' : 'us-central1',
    endpoints: [{ address: '127.0.0.1', port: ports.get(`${version}-${cloud}`)!, zone: cloud === 'aws' ? 'use1-az1' : 'us-central1-b' }],
  }));
  return { service: SERVICE, version, clusters, registeredAt: '2025-01-01T00:00:00.000Z', registeredBy: 'test', revision: 1 };
}

function snapshotFor(split: Split, clouds: readonly ('aws' | 'gcp')[] = ['aws', 'gcp']): Snapshot {
  return buildSnapshot({ group, services: [{ service: SERVICE, split, versions: [registration('v1', clouds), registration('v2', clouds)] }] }, { hash: sha256 });
}

/** The client's view has converged when it ACKed, for every type it subscribes, the snapshot's version. */
async function publishAndWaitForAck(snapshot: Snapshot): Promise<void> {
  ads.setSnapshot(group.name, snapshot);
  await waitFor(`ACK of ${JSON.stringify(snapshot.versions)}`, () => {
    const node = ads.knownNodes().find((n) => n.nodeId === NODE_ID);
    return node !== undefined && Object.entries(snapshot.versions).every(([type, version]) => node.acked[type] === version);
  });
}

async function waitFor(what: string, condition: () => boolean, deadlineMs = 15_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function say(): Promise<Backend> {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (client as any).Say({ text: 'hi' }, { deadline: Date.now() + 10_000 }, (error: grpc.ServiceError | null, reply: { backend: Backend }) => (error ? reject(error) : resolve(reply.backend)));
  });
}

/** `count` RPCs, 50 at a time: how many each backend served, and the errors. */
async function send(count: number): Promise<{ served: Record<Backend, number>; failures: string[] }> {
  const served = Object.fromEntries(BACKENDS.map((b) => [b, 0])) as Record<Backend, number>;
  const failures: string[] = [];
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      try {
        served[await say()] += 1;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  return { served, failures };
}

/** The client's picker follows its ACK by a hop; send until `settled` holds for 20 RPCs in a row (bounded). */
async function settle(settled: (backend: Backend) => boolean): Promise<void> {
  let inARow = 0;
  for (let i = 0; i < 500 && inARow < 20; i += 1) inARow = settled(await say()) ? inARow + 1 : 0;
  expect(inARow).toBe(20);
}

const percent = (served: Record<Backend, number>, version: 'v1' | 'v2'): number => ((served[`${version}-aws`] + served[`${version}-gcp`]) * 100) / RPCS;

describe('a @grpc/grpc-js-xds client through crossfade xds-server', () => {
  beforeAll(async () => {
    for (const backend of BACKENDS) ports.set(backend, await startBackend(backend));
    ads = createAdsServer({
      port: 0,
      rules: {
        checkSnapshot: (snapshot) => {
          if (!skipCheck) assertConsistent(snapshot as Snapshot);
        },
        groupOfNode: (node) => groupOfNode(node, [group]),
      },
      onAck: (ack) => acks.push(ack),
      onNack: (nack) => nacks.push(nack),
    });
    const { port } = await ads.start();
    const bootstrap = {
      xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: NODE_ID, locality: {} },
    };
    client = new EchoClient(`xds:///${SERVICE}`, grpc.credentials.createInsecure(), { 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap) });
    // A channel stays idle, and resolves nothing, until asked to connect.
    client.getChannel().getConnectivityState(true);
  });

  afterAll(async () => {
    client?.close();
    await ads?.stop();
    for (const server of servers) server.forceShutdown();
  });

  it('90/10: each version’s share within ±3 points, all in the client’s own cloud (aws, priority 0)', async () => {
    await publishAndWaitForAck(snapshotFor({ v1: 90, v2: 10 }));
    const { served, failures } = await send(RPCS);
    console.log('90/10', served);
    expect(failures).toEqual([]);
    expect(Math.abs(percent(served, 'v1') - 90)).toBeLessThanOrEqual(TOLERANCE_PERCENT);
    expect(Math.abs(percent(served, 'v2') - 10)).toBeLessThanOrEqual(TOLERANCE_PERCENT);
    expect(served['v1-gcp'] + served['v2-gcp']).toBe(0);
  });

  it('the client ACKed every type, and its node is known with those versions', () => {
    const node = ads.knownNodes().find((n) => n.nodeId === NODE_ID)!;
    expect(node).toMatchObject({ group: group.name, streams: 1, nacked: {} });
    expect(new Set(acks.map((a) => a.typeUrl))).toEqual(new Set(Object.values(XdsType)));
  });

  it('50/50: follows the new split (an RDS-only push)', async () => {
    const before = ads.knownNodes()[0]!.acked;
    const next = snapshotFor({ v1: 50, v2: 50 });
    await publishAndWaitForAck(next);
    expect(next.versions[XdsType.Cluster]).toBe(before[XdsType.Cluster]);
    const { served, failures } = await send(RPCS);
    console.log('50/50', served);
    expect(failures).toEqual([]);
    expect(Math.abs(percent(served, 'v1') - 50)).toBeLessThanOrEqual(TOLERANCE_PERCENT);
    expect(Math.abs(percent(served, 'v2') - 50)).toBeLessThanOrEqual(TOLERANCE_PERCENT);
  });

  it('its own cloud’s endpoints gone from the registration: every RPC succeeds, served by the other cloud', async () => {
    await publishAndWaitForAck(snapshotFor({ v1: 50, v2: 50 }, ['gcp']));
    await settle((backend) => backend.endsWith('-gcp'));
    const { served, failures } = await send(RPCS);
    console.log('failover', served);
    expect(failures).toEqual([]);
    expect(served['v1-aws'] + served['v2-aws']).toBe(0);
    expect(Math.abs(percent(served, 'v1') - 50)).toBeLessThanOrEqual(TOLERANCE_PERCENT);
  });

  it('refuses an inconsistent snapshot (a route to an unregistered version): nothing is pushed', () => {
    const acked = ads.knownNodes()[0]!.acked;
    const broken = buildSnapshot({ group, services: [{ service: SERVICE, split: { v1: 50, v3: 50 }, versions: [registration('v1', ['gcp'])] }] }, { hash: sha256 });
    expect(() => ads.setSnapshot(group.name, broken)).toThrow(ValidationError);
    expect(ads.knownNodes()[0]!.acked).toEqual(acked);
  });

  it('a route the client NACKs (weights summing to 0): the NACK is recorded with its error, and the client keeps the last good config', async () => {
    const good = snapshotFor({ v1: 50, v2: 50 }, ['gcp']);
    const zeroed = structuredClone(good.resources) as Record<XdsTypeUrl, XdsResource[]>;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const route = zeroed[XdsType.Route].find((r) => r.name === SERVICE)!.resource as any;
    for (const cluster of route.virtual_hosts[0].routes[0].route.weighted_clusters.clusters) cluster.weight = 0;
    const bad = assembleSnapshot(group.name, zeroed, sha256);
    skipCheck = true;
    try {
      ads.setSnapshot(group.name, bad);
    } finally {
      skipCheck = false;
    }
    await waitFor('a NACK of the zero-weight route', () => nacks.some((n) => n.rejectedVersion === bad.versions[XdsType.Route]));
    const nack = nacks.find((n) => n.rejectedVersion === bad.versions[XdsType.Route])!;
    console.log('NACK', nack);
    expect(nack).toMatchObject({ nodeId: NODE_ID, group: group.name, typeUrl: XdsType.Route, version: good.versions[XdsType.Route] });
    expect(nack.message).toContain('sum of weights is 0');
    const node = ads.knownNodes()[0]!;
    expect(node.acked[XdsType.Route]).toBe(good.versions[XdsType.Route]);
    expect(node.nacked[XdsType.Route]).toEqual({ rejectedVersion: bad.versions[XdsType.Route], message: nack.message });

    const { served, failures } = await send(RPCS);
    console.log('after NACK', served);
    expect(failures).toEqual([]);
    expect(served['v1-aws'] + served['v2-aws']).toBe(0);
    expect(Math.abs(percent(served, 'v1') - 50)).toBeLessThanOrEqual(TOLERANCE_PERCENT);
  });

  it('a good snapshot after the NACK is taken: a rollback to 100% v1 in the own cloud again', async () => {
    await publishAndWaitForAck(snapshotFor({ v1: 100, v2: 0 }));
    await settle((backend) => backend === 'v1-aws');
    const { served, failures } = await send(400);
    expect(failures).toEqual([]);
    expect(served['v1-aws']).toBe(400);
    expect(ads.knownNodes()[0]!.nacked).toEqual({});
  });
});

/** A raw ADS stream, as an Envoy would hold one: requests in, responses queued in order. */
function rawAdsStream(port: number) {
  const request = messageType('envoy.service.discovery.v3.DiscoveryRequest');
  const response = messageType('envoy.service.discovery.v3.DiscoveryResponse');
  const Client = grpc.makeGenericClientConstructor(
    {
      StreamAggregatedResources: {
        path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
        requestStream: true,
        responseStream: true,
        requestSerialize: (value: object) => Buffer.from(request.encode(request.fromObject(value)).finish()),
        requestDeserialize: (bytes: Buffer) => request.decode(bytes),
        responseSerialize: (value: object) => Buffer.from(response.encode(response.fromObject(value)).finish()),
        responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), { defaults: true, arrays: true }),
      },
    },
    'AggregatedDiscoveryService',
  );
  const rawClient = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call: grpc.ClientDuplexStream<object, RawResponse> = (rawClient as any).StreamAggregatedResources();
  const received: RawResponse[] = [];
  let ended: grpc.ServiceError | undefined;
  call.on('data', (r: RawResponse) => received.push(r));
  call.on('error', (error: grpc.ServiceError) => (ended = error));
  return {
    send: (body: object) => call.write(body),
    /** The next response, in stream order. */
    next: async (): Promise<RawResponse> => {
      await waitFor('the next DiscoveryResponse', () => received.length > 0 || ended !== undefined);
      if (received.length === 0) throw ended;
      return received.shift()!;
    },
    ended: async (): Promise<grpc.ServiceError> => {
      await waitFor('the stream to end', () => ended !== undefined);
      return ended!;
    },
    close: () => {
      call.cancel();
      rawClient.close();
    },
  };
}

interface RawResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: { type_url: string; value: Uint8Array }[];
}

describe('the ADS protocol as a raw stream sees it', () => {
  const rawGroup = { name: 'envoy-raw', kind: 'envoy', cloud: 'gcp', region: 'us-central1', proxies: [] } as const;
  let server: AdsServer;
  let port: number;
  const raw: ReturnType<typeof rawAdsStream>[] = [];
  const snapshot = (services: string[]): Snapshot =>
    buildSnapshot(
      {
        group: rawGroup,
        services: services.map((service) => ({
          service,
          split: { v1: 100 },
          versions: [{ ...registration('v1', ['gcp']), service }],
        })),
      },
      { hash: sha256 },
    );
  const names = (r: RawResponse): string[] => r.resources.map((any) => String(decodeResource(any)['name'] ?? decodeResource(any)['cluster_name']));
  // node.cluster names the group: an Envoy fleet with generated ids needs no list of them.
  const node = { id: 'envoy-7f3a', cluster: rawGroup.name };

  beforeAll(async () => {
    server = createAdsServer({ port: 0, rules: { checkSnapshot: (s) => assertConsistent(s as Snapshot), groupOfNode: (n) => groupOfNode(n, [rawGroup]) } });
    ({ port } = await server.start());
    server.setSnapshot(rawGroup.name, snapshot(['echo']));
  });

  afterAll(async () => {
    for (const stream of raw) stream.close();
    await server?.stop();
  });

  it('answers once, ignores stale nonces, never answers an ACK, and pushes a change CDS → EDS → LDS → RDS', async () => {
    const envoy = rawAdsStream(port);
    raw.push(envoy);
    envoy.send({ node, type_url: XdsType.Cluster });
    const cds = await envoy.next();
    expect([cds.type_url, names(cds)]).toEqual([XdsType.Cluster, ['echo--v1']]);

    // The ACK gets no answer: the next response on the stream is the EDS one asked for after it.
    envoy.send({ type_url: XdsType.Cluster, version_info: cds.version_info, response_nonce: cds.nonce });
    envoy.send({ type_url: XdsType.Endpoint, resource_names: ['echo--v1'] });
    const eds = await envoy.next();
    expect([eds.type_url, names(eds)]).toEqual([XdsType.Endpoint, ['echo--v1']]);
    envoy.send({ type_url: XdsType.Endpoint, version_info: eds.version_info, resource_names: ['echo--v1'], response_nonce: eds.nonce });
    envoy.send({ type_url: XdsType.Listener });
    const lds = await envoy.next();
    expect(names(lds)).toEqual(['crossfade_http', 'echo']);
    envoy.send({ type_url: XdsType.Listener, version_info: lds.version_info, response_nonce: lds.nonce });

    // A request answering an older response is stale: its new names are not served.
    envoy.send({ type_url: XdsType.Endpoint, resource_names: ['echo--v1', 'other--v1'], response_nonce: cds.nonce });
    envoy.send({ type_url: XdsType.Route, resource_names: ['crossfade_http'] });
    const rds = await envoy.next();
    expect([rds.type_url, names(rds)]).toEqual([XdsType.Route, ['crossfade_http']]);
    envoy.send({ type_url: XdsType.Route, version_info: rds.version_info, resource_names: ['crossfade_http'], response_nonce: rds.nonce });
    // Publishing before the server has the ACK would make that ACK stale (a newer RDS response went out first).
    const acked = (): Readonly<Record<string, string>> | undefined => server.knownNodes().find((n) => n.nodeId === node.id)?.acked;
    await waitFor('the RDS ACK', () => acked()?.[XdsType.Route] === rds.version_info);
    expect(server.knownNodes().find((n) => n.nodeId === node.id)).toMatchObject({ group: rawGroup.name, streams: 1, acked: { [XdsType.Cluster]: cds.version_info, [XdsType.Endpoint]: eds.version_info, [XdsType.Listener]: lds.version_info } });

    server.setSnapshot(rawGroup.name, snapshot(['cart', 'echo']));
    const pushed = [await envoy.next(), await envoy.next(), await envoy.next(), await envoy.next()];
    expect(pushed.map((r) => r.type_url)).toEqual([XdsType.Cluster, XdsType.Endpoint, XdsType.Listener, XdsType.Route]);
    expect(names(pushed[0]!)).toEqual(['cart--v1', 'echo--v1']);
    // EDS and RDS stay filtered by the names subscribed (Envoy asks for cart--v1 once it has the
    // cluster), and carry only what changed: echo--v1 did not, the client keeps it.
    expect(names(pushed[1]!)).toEqual([]);
    expect(pushed[1]!.version_info).not.toBe(eds.version_info);
    expect(new Set(pushed.map((r) => r.nonce)).size).toBe(4);

  });

  it('after one service changed, EDS and RDS carry only its resources; CDS and LDS stay whole', async () => {
    const mesh = (cartAddress: string, canary: boolean): Snapshot => {
      const at = (service: string, version: string, address?: string): RegisteredVersion => {
        const own = { ...registration('v1', ['gcp']), service, version };
        return address ? { ...own, clusters: own.clusters.map((c) => ({ ...c, endpoints: c.endpoints.map((e) => ({ ...e, address })) })) } : own;
      };
      const split: Split = canary ? { v1: 100, v2: 0 } : { v1: 100 };
      const cart = { service: 'cart', split, versions: canary ? [at('cart', 'v1', cartAddress), at('cart', 'v2', '127.0.0.9')] : [at('cart', 'v1', cartAddress)] };
      return buildSnapshot({ group: rawGroup, services: [cart, { service: 'echo', split: { v1: 100 }, versions: [at('echo', 'v1')] }] }, { hash: sha256 });
    };
    const watcher = { id: 'envoy-delta', cluster: rawGroup.name };
    const envoy = rawAdsStream(port);
    raw.push(envoy);
    const ackedBy = (type: string): string | undefined => server.knownNodes().find((n) => n.nodeId === watcher.id)?.acked[type];
    const ack = async (response: RawResponse, resource_names: string[]): Promise<void> => {
      envoy.send({ type_url: response.type_url, resource_names, version_info: response.version_info, response_nonce: response.nonce });
      await waitFor(`the ${response.type_url} ACK`, () => ackedBy(response.type_url) === response.version_info);
    };
    server.setSnapshot(rawGroup.name, mesh('127.0.0.2', false));
    const subscribed: Record<string, string[]> = { [XdsType.Cluster]: [], [XdsType.Endpoint]: ['cart--v1', 'echo--v1'], [XdsType.Listener]: [], [XdsType.Route]: ['cart', 'crossfade_http', 'echo'] };
    for (const [index, [type_url, resource_names]] of Object.entries(subscribed).entries()) {
      envoy.send({ ...(index === 0 ? { node: watcher } : {}), type_url, resource_names });
      const first = await envoy.next();
      expect(first.resources.length).toBeGreaterThan(1);
      await ack(first, resource_names);
    }

    // cart's endpoint moves: its ClusterLoadAssignment alone changes, and alone is sent.
    server.setSnapshot(rawGroup.name, mesh('127.0.0.3', false));
    const eds = await envoy.next();
    expect([eds.type_url, names(eds)]).toEqual([XdsType.Endpoint, ['cart--v1']]);
    await ack(eds, subscribed[XdsType.Endpoint]!);

    // cart gets a canary at 0%: CDS whole, EDS nothing it subscribes changed, RDS cart's route and the Envoy route, not echo's.
    server.setSnapshot(rawGroup.name, mesh('127.0.0.3', true));
    const pushed = [await envoy.next(), await envoy.next(), await envoy.next()];
    expect(pushed.map((r) => [r.type_url, names(r)])).toEqual([
      [XdsType.Cluster, ['cart--v1', 'cart--v2', 'echo--v1']],
      [XdsType.Endpoint, []],
      [XdsType.Route, ['cart', 'crossfade_http']],
    ]);
    server.setSnapshot(rawGroup.name, snapshot(['cart', 'echo']));
  });

  it('a new stream from a node that already runs the current version is sent nothing', async () => {
    const current = snapshot(['cart', 'echo']);
    const envoy = rawAdsStream(port);
    raw.push(envoy);
    envoy.send({ node, type_url: XdsType.Cluster, version_info: current.versions[XdsType.Cluster] });
    envoy.send({ type_url: XdsType.Listener });
    expect((await envoy.next()).type_url).toBe(XdsType.Listener);
  });

  it('ends the stream of a node no group knows, with NOT_FOUND naming it', async () => {
    const stranger = rawAdsStream(port);
    raw.push(stranger);
    stranger.send({ node: { id: 'stranger', cluster: 'elsewhere' }, type_url: XdsType.Cluster });
    const error = await stranger.ended();
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(error.details).toContain('stranger');
  });
});
