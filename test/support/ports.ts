/** Free TCP ports for the servers tests and benchmarks start. */
import { createServer } from 'node:net';

/**
 * A port free on every interface: good for servers on 127.0.0.1, and for DynamoDB Local, which
 * has no host flag and binds all of them.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
