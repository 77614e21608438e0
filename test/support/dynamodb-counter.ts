/**
 * A recording proxy in front of a DynamoDB endpoint, on 127.0.0.1: every request is forwarded
 * unchanged and counted by operation (`X-Amz-Target: DynamoDB_20120810.GetItem` → GetItem), so a
 * test can say how many reads a request to crossfade cost on the wire, retries included.
 */
import { createServer, request as forward } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DynamoDbCounter {
  endpoint: string;
  /** Requests per operation since the last reset. */
  counts(): Record<string, number>;
  /** GetItem, BatchGetItem, Query and Scan since the last reset. */
  reads(): number;
  reset(): void;
  stop(): Promise<void>;
}

const READS = ['GetItem', 'BatchGetItem', 'Query', 'Scan'];

export async function startDynamoDbCounter(upstream: string): Promise<DynamoDbCounter> {
  const target = new URL(upstream);
  let counts: Record<string, number> = {};
  const server = createServer((incoming, outgoing) => {
    const operation = String(incoming.headers['x-amz-target'] ?? '').split('.').pop() || 'unknown';
    counts[operation] = (counts[operation] ?? 0) + 1;
    const proxied = forward({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    proxied.on('error', () => outgoing.destroy());
    incoming.pipe(proxied);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ ...counts }),
    reads: () => READS.reduce((sum, op) => sum + (counts[op] ?? 0), 0),
    reset: () => {
      counts = {};
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
