/**
 * The load generator's HTTP client: node:http with one keep-alive Agent, not global fetch. Both
 * reuse connections, but fetch (undici) adds WHATWG stream and Headers work per request, and the
 * client shares a process and its event loop with the server it measures, so the cheaper client
 * keeps more of each figure about the server. The Agent sets no socket limit: the load loop's
 * concurrency is the only bound, so c=32 means 32 open connections.
 *
 * `CROSSFADE_BENCH_BREAK_REQUESTS="GET /v1/deployments?"` breaks every request whose method and
 * path start with that text (its path gets a prefix no route has, so the stack answers 404): how
 * the bench's own test proves that a scenario whose requests fail fails the run.
 */
import { Agent, request } from 'node:http';

export interface Reply {
  status: number;
  text: string;
  /** Response headers, lower-case names (a repeated one: its first value). */
  headers: Record<string, string>;
}

export interface KeepAliveClient {
  /** @param extraHeaders added to the client's own for this request (`if-none-match`). */
  send(method: string, path: string, body?: string, extraHeaders?: Record<string, string>): Promise<Reply>;
  close(): void;
}

const BROKEN_PATH_PREFIX = '/bench-broken-on-purpose';

/** The path as sent: broken on purpose when CROSSFADE_BENCH_BREAK_REQUESTS matches the request. */
function pathToSend(method: string, path: string): string {
  const broken = process.env['CROSSFADE_BENCH_BREAK_REQUESTS'];
  return broken && `${method} ${path}`.startsWith(broken) ? `${BROKEN_PATH_PREFIX}${path}` : path;
}

export function createKeepAliveClient(baseUrl: string, headers: Record<string, string>): KeepAliveClient {
  const agent = new Agent({ keepAlive: true });
  const origin = new URL(baseUrl);
  return {
    send(method, path, body, extraHeaders = {}) {
      path = pathToSend(method, path);
      return new Promise<Reply>((resolve, reject) => {
        const outgoing = request(
          {
            agent,
            host: origin.hostname,
            port: origin.port,
            method,
            path,
            headers: body === undefined ? { ...headers, ...extraHeaders } : { ...headers, ...extraHeaders, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (incoming) => {
            const chunks: Buffer[] = [];
            incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
            const replyHeaders = Object.fromEntries(Object.entries(incoming.headers).map(([name, value]) => [name, Array.isArray(value) ? (value[0] ?? '') : (value ?? '')]));
            incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: replyHeaders }));
            incoming.on('error', reject);
          },
        );
        outgoing.on('error', reject);
        outgoing.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
