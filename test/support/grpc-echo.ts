/**
 * The gRPC side of the ADS tests: echo backends that answer with their own name, a proxyless
 * client (@grpc/grpc-js-xds) of `xds:///<service>` through an ADS server, and a wait for traffic
 * to follow a change. No timing is asserted: waits poll with a deadline.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';
import { loadSync } from '@grpc/proto-loader';

// grpc-js-xds registers its resolver and balancers once per process.
register();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const echoPackage = grpc.loadPackageDefinition(loadSync(join(import.meta.dirname, 'echo.proto'), { keepCase: true })) as any;
const EchoClient = echoPackage.crossfade.test.Echo as typeof grpc.Client;
const echoService = echoPackage.crossfade.test.Echo.service as grpc.ServiceDefinition;

/** Starts an echo server on 127.0.0.1 answering `backend: name`; its port. `servers` collects it for forceShutdown. */
export function startEchoBackend(name: string, servers: grpc.Server[]): Promise<number> {
  const server = new grpc.Server();
  server.addService(echoService, { Say: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, done: grpc.sendUnaryData<unknown>) => done(null, { backend: name, text: call.request.text }) });
  servers.push(server);
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))));
}

/** A client of `xds:///<service>` whose bootstrap names the ADS server at `127.0.0.1:port` and the node id. */
export function xdsEchoClient(service: string, adsPort: number, nodeId: string): grpc.Client {
  const bootstrap = { xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }], node: { id: nodeId, locality: {} } };
  const client = new EchoClient(`xds:///${service}`, grpc.credentials.createInsecure(), { 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap) });
  client.getChannel().getConnectivityState(true);
  return client;
}

/** One RPC: the name of the backend that answered. */
export function say(client: grpc.Client): Promise<string> {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (client as any).Say({ text: 'hi' }, { deadline: Date.now() + 10_000 }, (error: grpc.ServiceError | null, reply: { backend: string }) => (error ? reject(error) : resolve(reply.backend)));
  });
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Until 20 RPCs in a row reach `backend` (an RPC that fails while the client resolves counts as a miss). */
export async function trafficFollows(client: grpc.Client, backend: string): Promise<void> {
  let inARow = 0;
  await waitFor(`20 RPCs in a row served by ${backend}`, async () => {
    inARow = (await say(client).catch(() => undefined)) === backend ? inARow + 1 : 0;
    return inARow >= 20;
  });
}
