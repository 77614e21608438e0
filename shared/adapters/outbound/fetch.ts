/**
 * Every request crossfade sends on its own behalf (rules service, notifications) goes through
 * here: a deadline for the whole exchange, and redirects followed by hand (at most
 * MAX_REDIRECTS), only to the same host — a receiver cannot bounce the request, its signature
 * and its body to another host. The host's addresses are resolved and checked before connecting,
 * so a name that resolves to a link-local or metadata address is refused as its literal would be
 * (domain/outbound.ts).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DependencyUnavailableError } from '../../domain/errors.js';
import { hostOf, outboundRefusal, type OutboundSettings } from '../../domain/outbound.js';

export const MAX_REDIRECTS = 3;

export interface OutboundRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Names the dependency in errors: `rules service "change-board"`. */
  what: string;
}

export interface OutboundAnswer {
  status: number;
  headers: Headers;
  body: string;
}

/** Sends the request; a refused host, a cross-host redirect, a timeout or a network failure is DependencyUnavailableError. */
export async function outboundFetch(request: OutboundRequest, settings: OutboundSettings): Promise<OutboundAnswer> {
  const signal = AbortSignal.timeout(request.timeoutMs);
  let url = request.url;
  for (let hop = 0; ; hop++) {
    await requireAllowedAddresses(url, settings, request.what);
    let response: Response;
    try {
      response = await fetch(url, { method: request.method, headers: request.headers, body: request.body, redirect: 'manual', signal });
    } catch (error) {
      const timedOut = signal.aborted;
      throw new DependencyUnavailableError(request.what, timedOut ? `${request.method} ${url.origin} (no answer within ${request.timeoutMs} ms)` : `${request.method} ${url.origin}`, { cause: timedOut ? undefined : error });
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) {
      let body: string;
      try {
        body = await response.text();
      } catch (error) {
        throw new DependencyUnavailableError(request.what, `read the answer of ${url.origin}`, { cause: error });
      }
      return { status: response.status, headers: response.headers, body };
    }
    await response.body?.cancel();
    const next = new URL(location, url);
    if (hostOf(next) !== hostOf(url) || next.protocol !== url.protocol) {
      throw new DependencyUnavailableError(request.what, `${request.method} ${url.origin}: redirected to another host (${next.origin}), which crossfade does not follow`);
    }
    if (hop + 1 > MAX_REDIRECTS) throw new DependencyUnavailableError(request.what, `${request.method} ${url.origin}: more than ${MAX_REDIRECTS} redirects`);
    url = next;
  }
}

async function requireAllowedAddresses(url: URL, settings: OutboundSettings, what: string): Promise<void> {
  const host = hostOf(url);
  const direct = outboundRefusal(host, settings);
  if (direct !== undefined) throw new DependencyUnavailableError(what, `call ${url.origin}: ${direct}`);
  if (isIP(host) !== 0 || host === 'localhost') return;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true });
  } catch (error) {
    throw new DependencyUnavailableError(what, `resolve ${host}`, { cause: error });
  }
  for (const { address } of addresses) {
    const refusal = outboundRefusal(address, { allowedHosts: ['*', ...settings.allowedHosts.filter((h) => h === host).map(() => address)] });
    if (refusal !== undefined) throw new DependencyUnavailableError(what, `call ${url.origin}: ${host} resolves to ${address}, ${refusal.replace(/^host \S+ is /, '')}`);
  }
}
