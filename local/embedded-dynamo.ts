/**
 * The embedded store of the local stack: dynalite, a DynamoDB-compatible server in this process,
 * on 127.0.0.1 only. With `path` it persists to LevelDB there (npm start keeps every deployment
 * across restarts under .crossfade/); without, it lives in memory (tests).
 *
 * The same DynamoDB adapter talks to it as to DynamoDB itself. dynalite has no transactions and no
 * TTL, which is why the store uses neither for correctness (see shared/adapters/dynamodb/table.ts).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface EmbeddedDynamo {
  endpoint: string;
  stop(): Promise<void>;
}

export interface EmbeddedDynamoOptions {
  path?: string;
  /** Sees every request before the store does (benchmarks count operations with it). */
  onRequest?: (request: IncomingMessage) => void;
}

export async function startEmbeddedDynamo(options: EmbeddedDynamoOptions): Promise<EmbeddedDynamo> {
  const server: Server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  if (options.onRequest) server.on('request', options.onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A client that keeps connections alive would otherwise hold the close open.
        server.closeAllConnections();
      }),
  };
}
