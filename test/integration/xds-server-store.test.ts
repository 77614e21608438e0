/**
 * `crossfade xds-server` in its store-backed mode, in-process: a mesh is registered and published
 * for an ADS proxy group in the embedded store (the registry adapter's own writes, then
 * publishSnapshots, as the functions do), and a real proxyless gRPC client (@grpc/grpc-js-xds)
 * resolves `xds:///echo` through the server. The server follows the published HEAD by polling; the
 * client's ACKs land in the snapshot store. No timing is asserted: waits poll with a deadline.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStoreBackedXdsServer, type RunningXdsServer } from '../../cli/xds-server.js';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { sha256Hex } from '../../shared/adapters/system.js';
import type { ProxyGroup, RegisteredVersion, Split } from '../../shared/domain/mesh.js';
import { XdsType } from '../../shared/engine/envoy/snapshot.js';
import type { Logger } from '../../shared/ports/logger.js';
import { xdsServerDeps } from '../../shared/runtime/xds.js';
import { publishSnapshots } from '../../shared/usecases/publish-snapshots.js';
import { say as sayTo, startEchoBackend, trafficFollows as clientFollows, waitFor, xdsEchoClient } from '../support/grpc-echo.js';
import { embeddedBackend, headsFailWhile, type StoreBackend } from '../support/store-backends.js';

const SERVICE = 'echo';
const NODE_ID = 'grpc-client-store-1';
const group: ProxyGroup = { name: 'grpc-ads-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: NODE_ID }], xds: { api: 'ads' } };
// A REST group beside it: the server follows only the ADS ones.
const restGroup: ProxyGroup = { name: 'envoy-rest-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] };
type Version = 'v1' | 'v2';

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => silent };
const clock = { now: () => new Date() };
const backends: grpc.Server[] = [];
const ports = new Map<Version, number>();
let store: StoreBackend;
let stores: ReturnType<typeof createDynamoDbStores>;
let running: RunningXdsServer;
let client: grpc.Client;
/** While set, every HEAD read the server makes fails, as an unreachable table would. */
let storeDown = false;
let splitRevision = 0;

function registration(version: Version): RegisteredVersion {
  return {
    service: SERVICE,
    version,
    clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address: '127.0.0.1', port: ports.get(version)!, zone: 'use1-az1' }] }],
    registeredAt: '2025-01-01T00:00:00.000Z',
    registeredBy: 'test',
    revision: 1,
  };
}

/** Writes the split for both groups, then publishes as the functions do. */
async function publishSplit(weights: Split): Promise<Record<string, string>> {
  splitRevision += 1;
  for (const g of [group, restGroup]) await stores.registry.putSplit({ service: SERVICE, proxyGroup: g.name, weights, revision: splitRevision, updatedAt: clock.now().toISOString() });
  const report = await publishSnapshots({ snapshots: stores.snapshots, parts: stores.parts, registry: stores.registry, proxyGroups: [group, restGroup], clock, logger: silent, hash: sha256Hex }, { services: [SERVICE] });
  const published = report.groups.find((g) => g.group === group.name)!;
  expect(published.outcome).toBe('published');
  return (published as { versions: Record<string, string> }).versions;
}

const say = () => sayTo(client);
const trafficFollows = (version: Version) => clientFollows(client, version);

async function ackedInStore(versions: Record<string, string>): Promise<boolean> {
  const acks = (await stores.snapshots.listAcks(group.name)).filter((a) => a.nodeId === NODE_ID);
  return Object.entries(versions).every(([typeUrl, version]) => acks.some((a) => a.typeUrl === typeUrl && a.version === version));
}

describe('crossfade xds-server following the snapshot store', () => {
  let firstVersions: Record<string, string>;

  beforeAll(async () => {
    store = await embeddedBackend();
    stores = createDynamoDbStores(await store.freshTable());
    for (const version of ['v1', 'v2'] as const) ports.set(version, await startEchoBackend(version, backends));
    for (const version of ['v1', 'v2'] as const) await stores.registry.putVersion(registration(version));
    firstVersions = await publishSplit({ v1: 100, v2: 0 });

    const parts = headsFailWhile(stores.parts, () => storeDown);
    const { checkSnapshot, groupOfNode, followStore } = xdsServerDeps({});
    running = await startStoreBackedXdsServer({ checkSnapshot, groupOfNode, followStore, clock, snapshots: stores.snapshots, parts, proxyGroups: [group, restGroup], logger: silent, port: 0, pollSeconds: 0.1 });
    client = xdsEchoClient(SERVICE, running.port, NODE_ID);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await running?.stop();
    for (const server of backends) server.forceShutdown();
    await store?.stop();
  });

  it('serves the published snapshot: 100% v1 reaches v1', async () => {
    await trafficFollows('v1');
    const served = await Promise.all(Array.from({ length: 50 }, () => say()));
    expect(served.every((v) => v === 'v1')).toBe(true);
  });

  it('stores the client’s ACK of every type in the snapshot store', async () => {
    expect(Object.keys(firstVersions).sort()).toEqual(Object.values(XdsType).sort());
    await waitFor('the ACKs in the store', () => ackedInStore(firstVersions));
  });

  it('follows a new publish at the next poll: 100% v2 reaches v2, and its ACK is stored', async () => {
    const next = await publishSplit({ v1: 0, v2: 100 });
    expect(next[XdsType.Route]).not.toBe(firstVersions[XdsType.Route]);
    await trafficFollows('v2');
    await waitFor('the new ACKs in the store', () => ackedInStore(next));
  });

  it('keeps serving the last good snapshot while the store cannot be read, and catches up after', async () => {
    storeDown = true;
    try {
      const next = await publishSplit({ v1: 100, v2: 0 });
      // Polls fail meanwhile; traffic stays on what was served.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const served = await Promise.all(Array.from({ length: 20 }, () => say()));
      expect(served.every((v) => v === 'v2')).toBe(true);
      storeDown = false;
      await trafficFollows('v1');
      await waitFor('the ACKs after recovery', () => ackedInStore(next));
    } finally {
      storeDown = false;
    }
  });

  it('a NACK is stored as the version the node keeps running, with the rejected one as handed to it', async () => {
    const { followStore } = xdsServerDeps({});
    const following = followStore({ snapshots: stores.snapshots, parts: stores.parts, proxyGroups: [group], clock, logger: silent }, () => {});
    following.record({ nodeId: 'grpc-nacker', group: group.name, typeUrl: XdsType.Route, version: 'good', rejected: { version: 'bad', message: 'sum of weights is 0' } });
    await following.settled();
    const nacker = (await stores.snapshots.listAcks(group.name)).find((a) => a.nodeId === 'grpc-nacker');
    expect(nacker).toMatchObject({ typeUrl: XdsType.Route, version: 'good', served: { version: 'bad' } });
  });
});
