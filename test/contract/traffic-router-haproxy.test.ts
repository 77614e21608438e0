/** The TrafficRouter contract (traffic-router.contract.ts) on the HAProxy router, against two real HAProxy processes on 127.0.0.1. */
import { HaproxyTrafficRouter, haproxyBackendName, haproxyServerName } from '../../shared/adapters/haproxy/haproxy-router.js';
import type { ProxyGroup } from '../../shared/domain/mesh.js';
import { adminCommand, serversOf, startHaproxy } from '../support/haproxy.js';
import { startHttpBackends } from '../support/http-backends.js';
import { CONTRACT_SERVICE, trafficRouterContract, type RouterRig } from './traffic-router.contract.js';

const BACKEND = haproxyBackendName(CONTRACT_SERVICE);

trafficRouterContract('HAProxy (Runtime API, real haproxy)', async (): Promise<RouterRig> => {
  const pods = await startHttpBackends(['v1-a', 'v2-a']);
  const instances = [await startHaproxy('edge-1', [{ name: BACKEND }]), await startHaproxy('edge-2', [{ name: BACKEND }])];
  const group: ProxyGroup = { name: 'edge-use1', kind: 'haproxy', cloud: 'aws', region: 'us-east-1', proxies: instances.map((i) => i.proxy) };
  const v2Server = haproxyServerName('v2', pods.endpointOf('v2-a'));
  return {
    router: new HaproxyTrafficRouter({ retryDelayMs: 10 }),
    group,
    emptyGroup: { ...group, name: 'edge-none', proxies: [] },
    otherKindGroup: { name: 'envoy-use1', kind: 'envoy', cloud: 'aws', region: 'us-east-1', proxies: [{ nodeId: 'envoy-1' }] },
    backend: [
      { version: 'v1', endpoints: [pods.endpointOf('v1-a')] },
      { version: 'v2', endpoints: [pods.endpointOf('v2-a')] },
    ],
    decide: async () => {},
    drift: async () => {
      // An operator's change by hand on the second instance.
      await adminCommand(instances[1]!.adminPort, `set server ${BACKEND}/${v2Server} weight 77`);
      return 'edge-2';
    },
    reconnect: async () => {},
    observe: () => Promise.all(instances.map((i) => serversOf(i.adminPort, BACKEND))),
    stop: async () => {
      await Promise.all(instances.map((i) => i.stop()));
      await pods.stop();
    },
  };
});
