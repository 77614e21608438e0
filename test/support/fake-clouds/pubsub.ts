/**
 * A fake of the Pub/Sub emulator on loopback: the google.pubsub.v1.Publisher gRPC service (its
 * real proto, shipped with @google-cloud/pubsub) without TLS, which is what the client speaks when
 * its apiEndpoint is not *.googleapis.com. Publish records each message and answers message ids;
 * every other method is UNIMPLEMENTED.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface PublishedMessage {
  topic: string;
  data: string;
  attributes: Record<string, string>;
}

export interface FakePubSub {
  /** For the client's apiEndpoint (crossfade.yaml notifications.pubsub.apiEndpoint): `http://127.0.0.1:<port>`. */
  apiEndpoint: string;
  messages: PublishedMessage[];
  stop(): Promise<void>;
}

export async function startFakePubSub(): Promise<FakePubSub> {
  const require = createRequire(import.meta.url);
  const protos = join(dirname(require.resolve('@google-cloud/pubsub/package.json')), 'build', 'protos');
  const gaxProtos = join(dirname(require.resolve('@google-cloud/pubsub/package.json')), 'node_modules', 'google-gax', 'build', 'protos');
  const definition = protoLoader.loadSync('google/pubsub/v1/pubsub.proto', { includeDirs: [protos, gaxProtos], keepCase: false, longs: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { google: { pubsub: { v1: { Publisher: { service: grpc.ServiceDefinition } } } } };
  const messages: PublishedMessage[] = [];
  let sequence = 0;
  const server = new grpc.Server();
  server.addService(loaded.google.pubsub.v1.Publisher.service, {
    publish(call: grpc.ServerUnaryCall<{ topic: string; messages: { data: Buffer; attributes: Record<string, string> }[] }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const ids = call.request.messages.map((message) => {
        messages.push({ topic: call.request.topic, data: Buffer.from(message.data).toString('utf8'), attributes: message.attributes });
        return String(++sequence);
      });
      callback(null, { messageIds: ids });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return {
    apiEndpoint: `http://127.0.0.1:${port}`,
    messages,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
