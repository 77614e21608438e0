/**
 * The watch's three reads of the API (docs/watch.md "What it reads"): the status document with
 * `If-None-Match`, the audit events from where the last read ended, and the service's proxy state.
 * A failure that may pass (nothing answered, 429, 5xx) comes back as `unavailable` for the view to
 * show while the loop retries; an answer that will not change by asking again (401, 403, 404, 400)
 * throws the project's error for it, which the CLI maps to its exit code.
 */
import { CrossfadeError, ForbiddenError, InternalError, NotFoundError, UnauthenticatedError, ValidationError } from '../../shared/domain/errors.js';
import type { StatusDocument } from '../../shared/http/status-document.js';
import type { AuditEvent } from '../../shared/ports/audit-log.js';
import type { ApiAnswer, ApiRequest, Transport } from '../transport/transport.js';
import { judgmentOf, type Judgment, type ServiceState } from './view.js';

export type Unavailable = { kind: 'unavailable'; message: string };

export type DeploymentRead = { kind: 'document'; document: StatusDocument; etag: string | undefined } | { kind: 'unchanged' } | Unavailable;

export async function readDeployment(transport: Transport, id: string, etag: string | undefined): Promise<DeploymentRead> {
  const path = `/v1/deployments/${encodeURIComponent(id)}`;
  const answer = await send(transport, { method: 'GET', path, ...(etag === undefined ? {} : { headers: { 'if-none-match': etag } }) });
  if ('kind' in answer) return answer;
  if (answer.statusCode === 304) return { kind: 'unchanged' };
  if (answer.statusCode === 200 && isStatusDocument(answer.body)) return { kind: 'document', document: answer.body, etag: answer.headers['etag'] };
  if (answer.statusCode === 200) throw new InternalError(`GET ${path} at ${transport.target} answered something that is not a status document`);
  throw refusal(answer, `GET ${path}`);
}

export async function readService(transport: Transport, service: string): Promise<{ kind: 'service'; service: ServiceState } | Unavailable> {
  const answer = await send(transport, { method: 'GET', path: `/v1/services/${encodeURIComponent(service)}` });
  if ('kind' in answer) return answer;
  if (answer.statusCode !== 200) return { kind: 'unavailable', message: messageOf(answer) };
  const body = answer.body as Partial<ServiceState>;
  return { kind: 'service', service: { service, weights: body.weights ?? {}, verification: body.verification ?? {} } };
}

const EVENTS_PAGE = 100;
/** Events kept for the frame (it shows fewer). */
const EVENTS_KEPT = 20;

/**
 * A deployment's events, read on from where the last read ended. The audit log pages oldest first
 * with opaque cursors and has no cursor for "after the last event", so the feed keeps the cursor
 * that led to the last page that had events and reads again from there (at most one page twice),
 * dropping events it has seen. The last judgment is kept apart: many events may follow it.
 */
export class EventFeed {
  private resumeCursor: string | undefined;
  private readonly seen = new Set<string>();
  recent: AuditEvent[] = [];
  judgment: Judgment | null = null;

  constructor(
    private readonly transport: Transport,
    private readonly id: string,
  ) {}

  async refresh(): Promise<{ kind: 'read' } | Unavailable> {
    let cursor = this.resumeCursor;
    for (;;) {
      const answer = await send(this.transport, { method: 'GET', path: `/v1/deployments/${encodeURIComponent(this.id)}/events`, query: { limit: String(EVENTS_PAGE), ...(cursor === undefined ? {} : { cursor }) } });
      if ('kind' in answer) return answer;
      if (answer.statusCode !== 200) return { kind: 'unavailable', message: messageOf(answer) };
      const page = answer.body as { items?: AuditEvent[]; nextCursor?: string | null };
      const items = page.items ?? [];
      if (items.length > 0) this.resumeCursor = cursor;
      this.take(items);
      if (!page.nextCursor) return { kind: 'read' };
      cursor = page.nextCursor;
    }
  }

  private take(items: readonly AuditEvent[]): void {
    for (const event of items) {
      if (this.seen.has(event.eventId)) continue;
      this.seen.add(event.eventId);
      this.recent.push(event);
      this.judgment = judgmentOf(event) ?? this.judgment;
    }
    this.recent = this.recent.slice(-EVENTS_KEPT);
  }
}

/** The answer, or `unavailable` when nothing answered (the transport's retries spent) or the answer says to come back later. */
async function send(transport: Transport, request: ApiRequest): Promise<ApiAnswer | Unavailable> {
  let answer: ApiAnswer;
  try {
    answer = await transport.send(request);
  } catch (error) {
    // A transport refuses what can never work (a bad --via) with an error that is not retryable.
    if (error instanceof CrossfadeError && error.retryable) return { kind: 'unavailable', message: error.message };
    throw error;
  }
  if (answer.statusCode === 429 || answer.statusCode >= 500) return { kind: 'unavailable', message: messageOf(answer) };
  return answer;
}

/** The project's error for an answer that asking again will not change. */
function refusal(answer: ApiAnswer, what: string): CrossfadeError {
  const error = errorBody(answer);
  const message = error?.message ?? `${what} answered ${answer.statusCode}`;
  switch (answer.statusCode) {
    case 400:
      return new ValidationError(message, error?.field, error?.rule);
    case 401:
      return new UnauthenticatedError(message);
    case 403:
      return new ForbiddenError(message, error?.rule ?? 'scope');
    case 404:
      return new NotFoundError(message);
    default:
      return new InternalError(`${what}: unexpected answer ${answer.statusCode}${error ? ` ${error.code}: ${error.message}` : ''}`);
  }
}

function messageOf(answer: ApiAnswer): string {
  const error = errorBody(answer);
  return error ? `${answer.statusCode} ${error.code}: ${error.message}` : `HTTP ${answer.statusCode}`;
}

function errorBody(answer: ApiAnswer): { code: string; message: string; field?: string; rule?: string } | undefined {
  const error = (answer.body as { error?: unknown } | undefined)?.error;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string' ? (error as { code: string; message: string }) : undefined;
}

function isStatusDocument(body: unknown): body is StatusDocument {
  const d = body as Partial<StatusDocument> | undefined;
  return typeof d === 'object' && d !== null && typeof d.id === 'string' && typeof d.status === 'string' && typeof d.step === 'object' && typeof d.weights === 'object';
}
