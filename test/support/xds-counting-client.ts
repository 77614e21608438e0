/**
 * A real proxyless gRPC client (@grpc/grpc-js-xds) that reports every xDS resource it receives,
 * run in a process of its own: `tsx xds-counting-client.ts <adsPort> <nodeId> <service>...` opens a
 * channel to `xds:///<service>` for each service, all sharing grpc-js-xds's one xDS client (one ADS
 * stream, from GRPC_XDS_BOOTSTRAP_CONFIG), and prints one JSON line per resource the client handles:
 * `{"type": "<type url>", "name": "<resource name>"}`.
 *
 * grpc-js-xds has no API that counts resources; its `xds_client` trace logs each one it parses (and
 * each it was sent without subscribing to it). Tracing is read from the environment when grpc-js
 * loads, hence a process of its own, started with GRPC_NODE_TRACE=xds_client and
 * GRPC_NODE_VERBOSITY=DEBUG (xdsCountingClientEnv).
 */
import * as grpc from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';

const [port, nodeId, ...services] = process.argv.slice(2);

/** The environment the client needs: tracing on, and the bootstrap naming the ADS server and node. */
export function xdsCountingClientEnv(adsPort: number, node: string): Record<string, string> {
  const bootstrap = { xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }], node: { id: node, locality: {} } };
  return { GRPC_NODE_TRACE: 'xds_client', GRPC_NODE_VERBOSITY: 'DEBUG', GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) };
}

const PARSED = /\| xds_client \| \S+ Parsed resource of type (\S+): ([\s\S]*)$/;
const UNSUBSCRIBED = /\| xds_client \| \S+ Received resource of type (\S+) named (.+) with no subscriptions$/;

/** grpc-js-xds names types without the `type.googleapis.com/` prefix the protocol's type URLs carry. */
const typeUrl = (type: string): string => (type.includes('/') ? type : `type.googleapis.com/${type}`);

function report(message: string): void {
  const parsed = PARSED.exec(message);
  if (parsed) {
    const value = JSON.parse(parsed[2]!) as { name?: string; cluster_name?: string };
    process.stdout.write(`${JSON.stringify({ type: typeUrl(parsed[1]!), name: value.name ?? value.cluster_name })}\n`);
    return;
  }
  const unsubscribed = UNSUBSCRIBED.exec(message);
  if (unsubscribed) process.stdout.write(`${JSON.stringify({ type: typeUrl(unsubscribed[1]!), name: unsubscribed[2] })}\n`);
}

if (port !== undefined && nodeId !== undefined) {
  grpc.setLogger({ error: report, info: report, debug: report });
  register();
  // Held until the process is killed: a closed channel unsubscribes.
  const channels = services.map((service) => new grpc.Channel(`xds:///${service}`, grpc.credentials.createInsecure(), {}));
  // A channel resolves nothing until asked to connect.
  for (const channel of channels) channel.getConnectivityState(true);
}
