/**
 * The API as the commands call it: a request through whichever transport, a 2xx document back, or
 * ApiError carrying what the API said (docs/api.md "Errors").
 */
import type { StatusDocument } from '../shared/http/status-document.js';
import type { AuditEvent } from '../shared/ports/audit-log.js';
import type { ApiRequest, Transport } from './transport/transport.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    /** The API's `error.code` (`NOT_FOUND`), or `HTTP_<status>` when the answer was not the API's. */
    readonly code: string,
    message: string,
    /** The API's `error.field`, when it names one. */
    readonly field: string | undefined,
  ) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An audit event as `/events` lists it. */
export type EventItem = AuditEvent;

export const ENDED_STATUSES: ReadonlySet<string> = new Set(['SUCCEEDED', 'TERMINAL', 'CANCELED']);

export class Api {
  constructor(readonly transport: Transport) {}

  /** The 2xx answer's document; anything else throws ApiError. */
  async call<T>(request: ApiRequest): Promise<T> {
    const answer = await this.transport.send(request);
    if (answer.statusCode >= 200 && answer.statusCode < 300) return answer.body as T;
    throw apiErrorOf(answer.statusCode, answer.body, `${request.method} ${request.path}`);
  }

  deployment(id: string): Promise<StatusDocument> {
    return this.call({ method: 'GET', path: `/v1/deployments/${segment(id)}` });
  }

  /** Every page from `first` on, following nextCursor, when `all`; else the one page. */
  async pages<T>(request: ApiRequest, all: boolean): Promise<Page<T>> {
    const first = await this.call<Page<T>>(request);
    const items = [...first.items];
    let cursor = first.nextCursor;
    while (all && cursor) {
      const next = await this.call<Page<T>>({ ...request, query: { ...request.query, cursor } });
      items.push(...next.items);
      cursor = next.nextCursor;
    }
    return { items, nextCursor: all ? null : cursor };
  }

  /** A deployment's whole audit timeline, oldest first. */
  events(id: string): Promise<Page<EventItem>> {
    return this.pages<EventItem>({ method: 'GET', path: `/v1/deployments/${segment(id)}/events`, query: { limit: '100' } }, true);
  }
}

/** A path segment: ids and names are checked by the API, but never let one change the path. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

function apiErrorOf(statusCode: number, body: unknown, what: string): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ApiError(statusCode, error.code, error.message, typeof error.field === 'string' ? error.field : undefined);
  }
  // Not the API's document: a proxy or load balancer in front of it answered.
  const text = typeof body === 'string' ? `: ${body.replace(/\s+/g, ' ').trim().slice(0, 200)}` : '';
  return new ApiError(statusCode, `HTTP_${statusCode}`, `${what} answered ${statusCode}${text}`, undefined);
}
