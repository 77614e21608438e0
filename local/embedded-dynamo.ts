/**
 * The embedded store of the local stack: dynalite, a DynamoDB-compatible server in this process,
 * on 127.0.0.1 only. With `path` it persists to LevelDB there (npm start keeps every deployment
 * across restarts under .crossfade/); without, it lives in memory (tests).
 *
 * The same DynamoDB adapter talks to it as to DynamoDB itself. dynalite has no transactions and no
 * TTL, which is why the store uses neither for correctness (see shared/adapters/dynamodb/table.ts).
 */
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
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
  if (options.path !== undefined) await checkStoreOpens(options.path);
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

interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * dynalite opens its LevelDB in the background, and when that fails (another process holds the
 * directory's LOCK) its first request throws "Database is closed" out of a callback, killing the
 * process with a stack. So the store is opened here first, with the LevelDB module dynalite itself
 * loads, and closed again for dynalite; a failure is an error of startEmbeddedDynamo, which the
 * caller can word. (Another process may still take the lock between the two opens.)
 */
async function checkStoreOpens(path: string): Promise<void> {
  const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level') as { Level: new (location: string) => LevelDatabase };
  const db = new Level(path);
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(cause?.code === 'LEVEL_LOCKED' ? 'its LevelDB is locked by another process' : (cause?.message ?? (error as Error).message), { cause: error });
  }
  await db.close();
}
