/**
 * The HTTP transport: one API request over node:http(s) with a bearer token, bounded in time, and
 * repeated only when repeating it cannot do anything twice (docs/cli.md "Retries").
 *
 * node:http rather than fetch: fetch has no connect timeout of its own (undici's is not ours to
 * configure without depending on it), and a connect timeout is what tells "nothing listens there"
 * from "it is slow".
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DependencyUnavailableError } from '../../shared/domain/errors.js';
import type { ApiAnswer, ApiRequest, Transport } from './transport.js';

export interface HttpTransportOptions {
  /** `https://crossfade.example.com` (a path prefix is kept: `https://host/crossfade`). */
  url: string;
  /** Sent as `Authorization: Bearer …`; never part of a message. */
  token: string | undefined;
  /** How long to wait for the connection (TCP and TLS); default 10 s. */
  connectTimeoutMs?: number;
  /** How long one attempt may take, connection to last byte; default 60 s. */
  timeoutMs?: number;
  /** Attempts in all, the first included; default 5. */
  attempts?: number;
  /** The first backoff; each next one doubles, with jitter, up to 8 s. Default 250 ms. */
  backoffMs?: number;
}

/** Statuses that say "not now" rather than "no": a repeatable request is sent again. */
const RETRIED_STATUSES = new Set([429, 502, 503, 504]);
const MAX_BACKOFF_MS = 8_000;
/** A Retry-After longer than this is not waited for: the error goes to the caller. */
const MAX_RETRY_AFTER_MS = 30_000;

/**
 * Whether sending `request` twice does what sending it once does: reads; PUT and DELETE (the API's
 * registration is idempotent); a creation carrying an idempotency key (the server replays the first
 * answer); a cancel (idempotent by contract); a reconciliation (a repair that converges).
 * promote, pause, resume and rollback are not: a second promote could pass a second gate.
 */
export function isSafeToRepeat(request: ApiRequest): boolean {
  if (request.method !== 'POST') return true;
  if (request.path === '/v1/deployments') return request.headers?.['x-idempotency-key'] !== undefined;
  return request.path.endsWith('/cancel') || request.path === '/v1/reconcile';
}

/** The URL without credentials, query or trailing slash: what messages may show. */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}

export class HttpTransport implements Transport {
  readonly target: string;
  private readonly base: URL;

  constructor(private readonly options: HttpTransportOptions) {
    this.base = new URL(options.url);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new TypeError(`${options.url} is not an http:// or https:// URL`);
    this.target = displayUrl(options.url);
  }

  async send(request: ApiRequest): Promise<ApiAnswer> {
    const attempts = this.options.attempts ?? 5;
    const repeatable = isSafeToRepeat(request);
    for (let attempt = 1; ; attempt++) {
      let outcome: Attempt;
      try {
        outcome = { answer: await this.once(request) };
      } catch (error) {
        outcome = { error: error as AttemptError };
      }
      const last = attempt >= attempts;
      if ('answer' in outcome) {
        const { answer } = outcome;
        const retryAfterMs = retryAfter(answer.headers['retry-after']);
        if (last || !repeatable || !RETRIED_STATUSES.has(answer.statusCode) || retryAfterMs > MAX_RETRY_AFTER_MS) return answer;
        await sleep(Math.max(retryAfterMs, this.backoff(attempt)));
        continue;
      }
      // Never sent (no connection): any request may go again. Sent and lost: only a repeatable one.
      if (last || !(outcome.error.beforeSending || repeatable)) {
        throw new DependencyUnavailableError(`crossfade at ${this.target}`, `${request.method} ${request.path}`, { cause: outcome.error });
      }
      await sleep(this.backoff(attempt));
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, (this.options.backoffMs ?? 250) * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private once(request: ApiRequest): Promise<ApiAnswer> {
    const url = new URL(`${this.base.pathname.replace(/\/+$/, '')}${request.path}`, this.base);
    for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string | number> = { accept: 'application/json', ...request.headers };
    if (this.options.token !== undefined) headers['authorization'] = `Bearer ${this.options.token}`;
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const connectTimeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const timeoutMs = this.options.timeoutMs ?? 60_000;

    return new Promise<ApiAnswer>((resolve, reject) => {
      let connected = false;
      const fail = (message: string, cause?: unknown) => reject(attemptError(message, !connected, cause));
      const outgoing = send(url, { method: request.method, headers, signal: AbortSignal.timeout(timeoutMs) });
      const connectTimer = setTimeout(() => outgoing.destroy(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      outgoing.on('socket', (socket) => {
        const established = () => {
          connected = true;
          clearTimeout(connectTimer);
        };
        if (!socket.connecting) established();
        else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', established);
      });
      outgoing.on('error', (error) => {
        clearTimeout(connectTimer);
        fail(error.name === 'AbortError' || error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : error.message, error);
      });
      outgoing.on('response', (response: IncomingMessage) => {
        clearTimeout(connectTimer);
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => fail(error.message, error));
        response.on('end', () => resolve(answerOf(response, Buffer.concat(chunks).toString('utf8'))));
      });
      outgoing.end(payload);
    });
  }
}

type AttemptError = Error & { beforeSending: boolean };
type Attempt = { answer: ApiAnswer } | { error: AttemptError };

function attemptError(message: string, beforeSending: boolean, cause: unknown): AttemptError {
  return Object.assign(new Error(message, { cause }), { beforeSending });
}

function answerOf(response: IncomingMessage, text: string): ApiAnswer {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  let body: unknown;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text; // a proxy's HTML error page: shown as it came
    }
  }
  return { statusCode: response.statusCode ?? 0, headers, body };
}

/** Retry-After in milliseconds (seconds, or an HTTP date); 0 when absent or unreadable. */
function retryAfter(value: string | undefined): number {
  if (value === undefined) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
