/**
 * The local server against clients that send slowly or too much, over raw sockets: a request
 * without a valid token is answered from its headers, its body never read; a body past the limit
 * is refused without reading the rest; a client slower than the request and header timeouts gets
 * 408 and its connection closed. Each case ends when the server closes the connection: on a server
 * that waited for the body, it would not end at all.
 */
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../local/stack.js';
import { MAX_BODY_BYTES } from '../../shared/http/types.js';
import { DEFAULT_SERVER_TIMEOUTS, serverTimeouts } from '../../shared/platform/node-http.js';

const ADMIN_TOKEN = 'cf_local_server_test_admin_token_0123';
/** A body the client announces and never finishes. */
const ANNOUNCED_BYTES = 100 * 1024 * 1024;

let stack: LocalStack;
let port: number;

beforeAll(async () => {
  stack = await startLocalStack({
    env: { CROSSFADE_ADMIN_TOKEN: ADMIN_TOKEN, CROSSFADE_LOG_LEVEL: 'silent', CROSSFADE_HTTP_HEADERS_TIMEOUT_MS: '400', CROSSFADE_HTTP_REQUEST_TIMEOUT_MS: '800' },
    dataDir: mkdtempSync(join(tmpdir(), 'crossfade-server-')),
    persist: false,
    port: 0,
  });
  port = Number(new URL(stack.url).port);
});

afterAll(async () => {
  await stack.stop();
});

interface Exchange {
  /** Everything the server sent, once it closed the connection. */
  answer: Promise<string>;
  /** Body bytes the client had written when the answer ended. */
  bodyBytesSent(): number;
}

/**
 * Writes `head`, then body chunks of `chunkBytes` every `everyMs` until the server closes the
 * connection (at most `maxBodyBytes`), and collects the answer.
 */
function exchange(head: string, options: { chunkBytes: number; everyMs: number; maxBodyBytes: number } = { chunkBytes: 16 * 1024, everyMs: 20, maxBodyBytes: 2 * MAX_BODY_BYTES }): Exchange {
  const socket = connect(port, '127.0.0.1');
  let sent = 0;
  let received = '';
  let timer: NodeJS.Timeout | undefined;
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {}); // a write after the server closed: the answer is what counts
  socket.write(head);
  if (options.chunkBytes > 0) {
    timer = setInterval(() => {
      if (socket.destroyed || sent >= options.maxBodyBytes) return;
      socket.write(Buffer.alloc(options.chunkBytes, 'x'));
      sent += options.chunkBytes;
    }, options.everyMs);
  }
  const answer = new Promise<string>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve(received);
    }),
  );
  return { answer, bodyBytesSent: () => sent };
}

function postHead(path: string, headers: Record<string, string>): string {
  const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${ANNOUNCED_BYTES}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return lines.join('\r\n') + '\r\n\r\n';
}

describe('the local server reads no body it does not need', () => {
  it.each([
    ['no token', {}, 'missing Authorization header'],
    ['a wrong token', { Authorization: 'Bearer cf_not_a_token_anybody_has_0000' }, 'the bearer token is not valid'],
  ])('%s, a 100 MB body announced and trickling: 401 at once, the connection closed', async (_name, headers, message) => {
    // Never as much as the body limit: a server that waits for the body (or its limit) answers nothing.
    const sent = exchange(postHead('/v1/deployments', headers), { chunkBytes: 1024, everyMs: 20, maxBodyBytes: 64 * 1024 });
    const answer = await sent.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain(message);
    expect(sent.bodyBytesSent()).toBeLessThan(ANNOUNCED_BYTES);
  });

  it('no route: 404 from the request line alone', async () => {
    const answer = await exchange(postHead('/v1/nowhere', {}), { chunkBytes: 1024, everyMs: 20, maxBodyBytes: 64 * 1024 }).answer;
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('a path parameter that cannot be a key: 400 before the body', async () => {
    const answer = await exchange(postHead(`/v1/deployments/${'a'.repeat(5000)}/cancel`, { Authorization: `Bearer ${ADMIN_TOKEN}` }), { chunkBytes: 1024, everyMs: 20, maxBodyBytes: 64 * 1024 }).answer;
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"rule":"deployment-id"');
  });

  it.each([
    ['a valid token', '/v1/deployments', { Authorization: `Bearer ${ADMIN_TOKEN}` }],
    ['Envoy discovery (its token is in the body)', '/v3/discovery:clusters', {}],
  ])('%s and a body past the limit: 400 PAYLOAD_TOO_LARGE without reading the rest', async (_name, path, headers) => {
    const sent = exchange(postHead(path, headers), { chunkBytes: 64 * 1024, everyMs: 5, maxBodyBytes: 4 * MAX_BODY_BYTES });
    const answer = await sent.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"PAYLOAD_TOO_LARGE"');
    expect(sent.bodyBytesSent()).toBeLessThan(ANNOUNCED_BYTES);
  });
});

describe('the local server times slow clients out', () => {
  it('defaults: 30 s for the headers and for the whole request', () => {
    expect(serverTimeouts({})).toEqual({ headersTimeoutMs: 30_000, requestTimeoutMs: 30_000 });
    expect(DEFAULT_SERVER_TIMEOUTS).toEqual({ headersTimeoutMs: 30_000, requestTimeoutMs: 30_000 });
    expect(serverTimeouts({ CROSSFADE_HTTP_HEADERS_TIMEOUT_MS: 'soon', CROSSFADE_HTTP_REQUEST_TIMEOUT_MS: '-1' })).toEqual(DEFAULT_SERVER_TIMEOUTS);
    // The headers are part of the request: their timeout is never the longer one.
    expect(serverTimeouts({ CROSSFADE_HTTP_HEADERS_TIMEOUT_MS: '60000', CROSSFADE_HTTP_REQUEST_TIMEOUT_MS: '5000' })).toEqual({ headersTimeoutMs: 5000, requestTimeoutMs: 5000 });
  });

  it('headers that never end: 408, the connection closed', async () => {
    const answer = await exchange('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', { chunkBytes: 0, everyMs: 0, maxBodyBytes: 0 }).answer;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('an authenticated body that trickles slower than the request timeout: 408, the connection closed, nothing run', async () => {
    const sent = exchange(postHead('/v1/deployments', { Authorization: `Bearer ${ADMIN_TOKEN}` }), { chunkBytes: 1, everyMs: 50, maxBodyBytes: ANNOUNCED_BYTES });
    const answer = await sent.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });
});
