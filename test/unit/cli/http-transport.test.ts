/** The HTTP transport against a server on loopback: what it repeats, what it never repeats, what it says when nothing answers. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport, isSafeToRepeat } from '../../../cli/transport/http.js';
import { DependencyUnavailableError } from '../../../shared/domain/errors.js';
import { freePort } from '../../support/ports.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((closed) => (server ? server.close(() => closed()) : closed())));

/** A server answering `statuses` in turn (then 200), recording each request. */
async function serve(statuses: number[]): Promise<{ url: string; seen: { method: string; url: string; authorization?: string; body: string }[] }> {
  const seen: { method: string; url: string; authorization?: string; body: string }[] = [];
  server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method!, url: request.url!, authorization: request.headers.authorization, body });
      const status = statuses.shift() ?? 200;
      response.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '0' } : {}) }).end(JSON.stringify({ status }));
    });
  });
  await new Promise<void>((listening) => server!.listen(0, '127.0.0.1', listening));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/prefix/`, seen };
}

describe('HttpTransport', () => {
  it('repeats a read on 503, 502, 429 with the token and the path under the URL\'s prefix, and answers the last status', async () => {
    const { url, seen } = await serve([503, 502, 429]);
    const answer = await new HttpTransport({ url, token: 'cf_secret', backoffMs: 1 }).send({ method: 'GET', path: '/v1/deployments', query: { service: 'a b' } });
    expect(answer).toMatchObject({ statusCode: 200, body: { status: 200 } });
    expect(seen.map((r) => [r.method, r.url, r.authorization])).toEqual(Array(4).fill(['GET', '/prefix/v1/deployments?service=a+b', 'Bearer cf_secret']));
  });

  it('never repeats a promote once sent; repeats a create carrying an idempotency key', async () => {
    const first = await serve([503]);
    const promote = await new HttpTransport({ url: first.url, token: undefined, backoffMs: 1 }).send({ method: 'POST', path: '/v1/deployments/d/promote', body: {} });
    expect([promote.statusCode, first.seen.length]).toEqual([503, 1]);
    await new Promise<void>((closed) => server!.close(() => closed()));
    const second = await serve([503]);
    const create = await new HttpTransport({ url: second.url, token: undefined, backoffMs: 1 }).send({ method: 'POST', path: '/v1/deployments', headers: { 'x-idempotency-key': 'k' }, body: { a: 1 } });
    expect([create.statusCode, second.seen.map((r) => r.body)]).toEqual([200, ['{"a":1}', '{"a":1}']]);
  });

  it('says which requests are safe to repeat', () => {
    expect(isSafeToRepeat({ method: 'GET', path: '/v1/deployments/d' })).toBe(true);
    expect(isSafeToRepeat({ method: 'PUT', path: '/v1/services/s/versions/v' })).toBe(true);
    expect(isSafeToRepeat({ method: 'POST', path: '/v1/deployments' })).toBe(false);
    expect(isSafeToRepeat({ method: 'POST', path: '/v1/deployments/by-key/k/cancel' })).toBe(true);
    expect(isSafeToRepeat({ method: 'POST', path: '/v1/deployments/d/rollback' })).toBe(false);
    expect(isSafeToRepeat({ method: 'POST', path: '/v1/reconcile' })).toBe(true);
  });

  it('nothing listening: DependencyUnavailableError naming the URL without its credentials, after its attempts', async () => {
    const port = await freePort();
    const transport = new HttpTransport({ url: `http://user:pw@127.0.0.1:${port}`, token: 'cf_secret', attempts: 2, backoffMs: 1 });
    const error = await transport.send({ method: 'POST', path: '/v1/deployments/d/promote' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toMatch(new RegExp(`^crossfade at http://127\\.0\\.0\\.1:${port}: POST /v1/deployments/d/promote failed: .*ECONNREFUSED`));
    expect((error as Error).message).not.toMatch(/cf_secret|pw/);
  });
});
