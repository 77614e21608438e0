/**
 * A node:http server serving the HTTP core: the local stack's server.
 *
 * A request is first admitted from its request line and headers alone (HttpHandler.admit): a caller
 * without a valid bearer token, or asking for no route, is answered at once, and its body is never
 * read. A body is read only up to MAX_BODY_BYTES + 1; whenever a body is left unread, the answer
 * closes the connection instead of draining it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { errorResponse, type HttpHandler } from '../http/handle.js';
import { MAX_BODY_BYTES, type HttpResponse, type RequestHead } from '../http/types.js';

const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** How long a client may take to send its headers, and its whole request (docs/api.md "Limits"). */
export interface ServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = { headersTimeoutMs: 30_000, requestTimeoutMs: 30_000 };

/**
 * The server the local stack listens with. A client slower than the timeouts gets 408 and its
 * connection closed (node's own default lets a request body trickle in for 300 s).
 * CROSSFADE_HTTP_HEADERS_TIMEOUT_MS and CROSSFADE_HTTP_REQUEST_TIMEOUT_MS override them.
 */
export function createApiServer(listener: RequestListener, env: Record<string, string | undefined>): Server {
  const timeouts = serverTimeouts(env);
  return createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      // node checks the two timeouts on this interval (default 30 s): a fraction of the shorter one.
      connectionsCheckingInterval: Math.max(50, Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs) / 4),
    },
    listener,
  );
}

/** The headers are part of the request: node refuses a headers timeout longer than the request's. */
export function serverTimeouts(env: Record<string, string | undefined>): ServerTimeouts {
  const requestTimeoutMs = positiveMs(env['CROSSFADE_HTTP_REQUEST_TIMEOUT_MS']) ?? DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs;
  const headersTimeoutMs = positiveMs(env['CROSSFADE_HTTP_HEADERS_TIMEOUT_MS']) ?? DEFAULT_SERVER_TIMEOUTS.headersTimeoutMs;
  return { headersTimeoutMs: Math.min(headersTimeoutMs, requestTimeoutMs), requestTimeoutMs };
}

function positiveMs(text: string | undefined): number | undefined {
  const value = text === undefined || text === '' ? NaN : Number(text);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

export function nodeRequestListener(handle: HttpHandler, fallbackOrigin: string): RequestListener {
  return (incoming, outgoing) => {
    void serve(handle, fallbackOrigin, incoming, outgoing);
  };
}

async function serve(handle: HttpHandler, fallbackOrigin: string, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  let response: HttpResponse;
  let bodyLeftUnread = false;
  try {
    const head = headOf(incoming, fallbackOrigin);
    const early = await handle.admit(head);
    if (early) {
      response = early;
      bodyLeftUnread = announcesBody(incoming);
    } else {
      const body = await readBody(incoming);
      bodyLeftUnread = !incoming.complete;
      response = await handle({ ...head, body });
    }
  } catch (error) {
    response = errorResponse(error);
  }
  // node would drain unread bytes to reuse the connection; `close` makes it close it instead.
  outgoing.writeHead(response.statusCode, bodyLeftUnread ? { ...response.headers, connection: 'close' } : response.headers);
  outgoing.end(response.body);
}

function announcesBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers['content-length'];
  return incoming.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function headOf(incoming: IncomingMessage, fallbackOrigin: string): RequestHead {
  const url = new URL(incoming.url ?? '/', 'http://placeholder');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) if (!Object.hasOwn(query, name)) query[name] = value;
  const host = headers['host'];
  return {
    method: incoming.method ?? 'GET',
    path: url.pathname,
    query,
    headers,
    origin: host && SAFE_HOST.test(host) ? `http://${host}` : fallbackOrigin,
    requestId: randomUUID(),
  };
}

/**
 * Reads at most MAX_BODY_BYTES + 1 bytes and stops there: the core then refuses the body as too
 * large, as it does on AWS and GCP, and the rest is never read.
 */
export function readBody(incoming: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    const done = () => {
      incoming.off('data', onData);
      resolve(chunks.length === 0 ? undefined : Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      const room = MAX_BODY_BYTES + 1 - kept;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(part);
      kept += part.length;
      if (kept > MAX_BODY_BYTES) {
        incoming.pause();
        done();
      }
    };
    incoming.on('data', onData);
    incoming.once('end', done);
    incoming.once('error', reject);
    // A client gone (or timed out, see createApiServer) before its body ended: never run a route on part of it.
    incoming.once('close', () => {
      if (!incoming.complete) reject(new Error('the client closed the connection before the end of its body'));
    });
  });
}
