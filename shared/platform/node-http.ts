/**
 * A node:http request listener serving the HTTP core: the local stack's server.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { mapError } from '../http/error-response.js';
import { respond, type HttpHandler } from '../http/handle.js';
import { MAX_BODY_BYTES, type HttpRequest, type HttpResponse } from '../http/types.js';

const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export function nodeRequestListener(handle: HttpHandler, fallbackOrigin: string): RequestListener {
  return (incoming, outgoing) => {
    void serve(handle, fallbackOrigin, incoming, outgoing);
  };
}

async function serve(handle: HttpHandler, fallbackOrigin: string, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  let response: HttpResponse;
  try {
    response = await handle(await toRequest(incoming, fallbackOrigin));
  } catch (error) {
    const mapped = mapError(error);
    response = respond(mapped.statusCode, mapped.body, mapped.headers);
  }
  outgoing.writeHead(response.statusCode, response.headers);
  outgoing.end(response.body);
}

async function toRequest(incoming: IncomingMessage, fallbackOrigin: string): Promise<HttpRequest> {
  const url = new URL(incoming.url ?? '/', 'http://placeholder');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) if (!(name in query)) query[name] = value;
  const host = headers['host'];
  return {
    method: incoming.method ?? 'GET',
    path: url.pathname,
    query,
    headers,
    body: await readBody(incoming),
    origin: host && SAFE_HOST.test(host) ? `http://${host}` : fallbackOrigin,
    requestId: randomUUID(),
  };
}

/**
 * Keeps at most MAX_BODY_BYTES + 1 bytes and discards the rest as it arrives: the core then refuses
 * the body as too large, after authentication, exactly as it does on AWS and GCP.
 */
export function readBody(incoming: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    incoming.on('data', (chunk: Buffer) => {
      const room = MAX_BODY_BYTES + 1 - kept;
      if (room <= 0) return;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(part);
      kept += part.length;
    });
    incoming.once('end', () => resolve(chunks.length === 0 ? undefined : Buffer.concat(chunks)));
    incoming.once('error', reject);
  });
}
