/**
 * The TrafficRouter contract (traffic-router.contract.ts) on the Envoy router: the registry and the
 * published snapshots in the embedded store, `crossfade xds-server` following the store in this
 * process, and a real proxyless gRPC client (@grpc/grpc-js-xds) of `xds:///echo` whose ACKs the
 * server records in the store, where verifySplit reads them. The client drifts by its server
 * losing the store: a later publish cannot reach it until the store is back.
 */
import type * as grpc from '@grpc/grpc-js';
import { startStoreBackedXdsServer, type RunningXdsServer } from '../../cli/xds-server.js';
import { createDynamoDbStores } from '../../shared/adapters/dynamodb/stores.js';
import { sha256Hex } from '../../shared/adapters/system.js';
import type { ProxyGroup, RegisteredVersion, Split } from '../../shared/domain/mesh.js';
import type { Logger } from '../../shared/ports/logger.js';
import { xdsServerDeps } from '../../shared/runtime/xds.js';
import { coalescingPublisher } from '../../shared/usecases/coalescing-publisher.js';
import { EnvoyTrafficRouter } from '../../shared/usecases/envoy-router.js';
import { serviceBackend } from '../../shared/usecases/service-backend.js';
import type { XdsDeps } from '../../shared/usecases/xds-deps.js';
import { startEchoBackend, xdsEchoClient } from '../support/grpc-echo.js';
import { embeddedBackend, headsFailWhile } from '../support/store-backends.js';
import { CONTRACT_SERVICE, trafficRouterContract, type RouterRig } from './traffic-router.contract.js';

const NODE_ID = 'grpc-client-contract-1';
const silent: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => silent };
const clock = { now: () => new Date() };

function registration(service: string, version: string, port: number): RegisteredVersion {
  return {
    service,
    version,
    clusters: [{ cloud: 'aws', cluster: 'eks-use1', region: 'us-east-1', endpoints: [{ address: '127.0.0.1', port, zone: 'use1-az1' }] }],
    registeredAt: '2025-01-01T00:00:00.000Z',
    registeredBy: 'test',
    revision: 1,
  };
}

trafficRouterContract('Envoy (published snapshots + ACKs, real grpc-js-xds client)', async (): Promise<RouterRig> => {
  const group: ProxyGroup = { name: 'grpc-ads-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: NODE_ID }], xds: { api: 'ads' } };
  // REST, so the in-process server (which follows ADS groups) leaves it alone; it lists no node ids.
  const emptyGroup: ProxyGroup = { name: 'envoy-rest-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [] };
  const store = await embeddedBackend();
  const stores = createDynamoDbStores(await store.freshTable());
  const echoServers: grpc.Server[] = [];
  const ports = { v1: await startEchoBackend('v1', echoServers), v2: await startEchoBackend('v2', echoServers) };
  for (const version of ['v1', 'v2'] as const) await stores.registry.putVersion(registration(CONTRACT_SERVICE, version, ports[version]));

  // While set, the xDS server cannot read the HEAD: what is published after cannot reach the client.
  let storeDown = false;
  const followed = headsFailWhile(stores.parts, () => storeDown);
  const { checkSnapshot, groupOfNode, followStore } = xdsServerDeps({});
  const running: RunningXdsServer = await startStoreBackedXdsServer({ checkSnapshot, groupOfNode, followStore, clock, snapshots: stores.snapshots, parts: followed, proxyGroups: [group, emptyGroup], logger: silent, port: 0, pollSeconds: 0.1 });
  const client = xdsEchoClient(CONTRACT_SERVICE, running.port, NODE_ID);

  const deps: XdsDeps = { registry: stores.registry, snapshots: stores.snapshots, parts: stores.parts, proxyGroups: [group, emptyGroup], clock, logger: silent, hash: sha256Hex };
  const router = new EnvoyTrafficRouter({ ...deps, publish: coalescingPublisher(deps) });

  /** The registry's split for `service` in both groups, as the canary writes it before applying. */
  async function decide(service: string, split: Split): Promise<void> {
    const state = await stores.registry.getService(service);
    for (const g of [group, emptyGroup]) {
      const current = state?.splits.find((s) => s.proxyGroup === g.name);
      await stores.registry.putSplit({ service, proxyGroup: g.name, weights: split, revision: (current?.revision ?? 0) + 1, updatedAt: clock.now().toISOString() });
    }
  }

  return {
    router,
    group,
    emptyGroup,
    otherKindGroup: { name: 'edge-use1', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: [{ name: 'edge-1', runtimeApi: '127.0.0.1:9999' }] },
    backend: serviceBackend((await stores.registry.getService(CONTRACT_SERVICE))!),
    decide: (split) => decide(CONTRACT_SERVICE, split),
    drift: async () => {
      // Another service is published while the client's server cannot read the store: the group's
      // snapshot moves on (echo's split unchanged in it) and the client stays on the one before.
      storeDown = true;
      await stores.registry.putVersion(registration('other', 'v1', ports.v1));
      await decide('other', { v1: 100 });
      const other = serviceBackend((await stores.registry.getService('other'))!);
      await router.applySplit(group, 'other', other, { v1: 100 });
      return NODE_ID;
    },
    reconnect: async () => {
      storeDown = false;
    },
    observe: () => Promise.all([stores.parts.head(group.name), stores.parts.head(emptyGroup.name)]),
    stop: async () => {
      client.close();
      await running.stop();
      for (const server of echoServers) server.forceShutdown();
      await store.stop();
    },
  };
});
