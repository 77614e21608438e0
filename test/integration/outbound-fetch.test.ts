/**
 * outboundFetch (shared/adapters/outbound/fetch.ts) against real HTTP servers on 127.0.0.1: a
 * redirect to the same host is followed (a few times at most), one to another host is refused
 * without being followed, and a server that never answers ends in DependencyUnavailableError at
 * the deadline. A host outside `outbound.allowedHosts` is refused before connecting.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REDIRECTS, outboundFetch, type OutboundRequest } from '../../shared/adapters/outbound/fetch.js';
import { DependencyUnavailableError } from '../../shared/domain/errors.js';
import { DEFAULT_OUTBOUND } from '../../shared/domain/outbound.js';
import { listenOnLoopback } from '../support/fake-clouds/loopback.js';
import { rejectionOf } from '../support/errors.js';

interface Seen {
  path: string;
  method: string;
  body: string;
}

let base = '';
let port = 0;
let stop: () => Promise<void>;
const seen: Seen[] = [];
/** Paths answered by the other server (the redirect target on another host). */
const elsewhere: string[] = [];
let stopElsewhere: () => Promise<void>;
let elsewherePort = 0;

function route(request: IncomingMessage, response: ServerResponse, body: string): void {
  const path = request.url ?? '/';
  seen.push({ path, method: request.method ?? '', body });
  if (path === '/hang') return; // never answers
  if (path === '/same-host') return void response.writeHead(307, { location: '/final' }).end();
  if (path === '/other-host') return void response.writeHead(302, { location: `http://localhost:${elsewherePort}/stolen` }).end();
  if (path.startsWith('/loop')) return void response.writeHead(302, { location: `/loop${path.length}` }).end();
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path, body }));
}

beforeAll(async () => {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => route(request, response, body));
  });
  ({ port, stop } = await listenOnLoopback(server));
  base = `http://127.0.0.1:${port}`;
  const other = createServer((request, response) => {
    elsewhere.push(request.url ?? '/');
    response.writeHead(200).end('{}');
  });
  ({ port: elsewherePort, stop: stopElsewhere } = await listenOnLoopback(other));
});

afterAll(async () => {
  await stop?.();
  await stopElsewhere?.();
});

function request(path: string, overrides: Partial<OutboundRequest> = {}): OutboundRequest {
  return { url: new URL(path, base), method: 'POST', headers: { 'content-type': 'application/json', 'x-crossfade-signature': 'v1=abc' }, body: '{"a":1}', timeoutMs: 2000, what: 'rules service "test"', ...overrides };
}

describe('outboundFetch', () => {
  it('answers the status, headers and body of a plain exchange', async () => {
    const answer = await outboundFetch(request('/plain'), DEFAULT_OUTBOUND);

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ path: '/plain', body: '{"a":1}' });
  });

  it('follows a redirect to the same host, sending the request again there', async () => {
    seen.length = 0;

    const answer = await outboundFetch(request('/same-host'), DEFAULT_OUTBOUND);

    expect(JSON.parse(answer.body)).toEqual({ path: '/final', body: '{"a":1}' });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['POST /same-host', 'POST /final']);
  });

  it('refuses a redirect to another host without following it', async () => {
    elsewhere.length = 0;

    const error = await rejectionOf(outboundFetch(request('/other-host'), DEFAULT_OUTBOUND));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toMatch(/redirected to another host \(http:\/\/localhost:\d+\)/);
    expect(elsewhere).toEqual([]);
  });

  it(`refuses more than ${MAX_REDIRECTS} redirects`, async () => {
    const error = await rejectionOf(outboundFetch(request('/loop'), DEFAULT_OUTBOUND));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toContain(`more than ${MAX_REDIRECTS} redirects`);
  });

  it('ends a request that gets no answer at its deadline, saying so', async () => {
    const error = await rejectionOf(outboundFetch(request('/hang', { timeoutMs: 200 }), DEFAULT_OUTBOUND));

    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toContain('no answer within 200 ms');
    expect((error as DependencyUnavailableError).retryable).toBe(true);
  });

  it('refuses a host outside outbound.allowedHosts before connecting', async () => {
    seen.length = 0;

    const error = await rejectionOf(outboundFetch(request('/plain'), { allowedHosts: ['*.example.com'] }));

    expect((error as Error).message).toContain('host 127.0.0.1 is not in outbound.allowedHosts');
    expect(seen).toEqual([]);
  });
});
