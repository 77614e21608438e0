/**
 * Webhook receivers on 127.0.0.1, as a customer would write one (docs/notifications.md): each
 * request's signature is checked with the shared secret, and events are de-duplicated by
 * X-Crossfade-Event-Id. `failFirst` answers 503 to the first n attempts of every event id; a
 * `dead` receiver accepts the connection and never answers.
 */
import { createServer } from 'node:http';
import { signatureValid } from '../../shared/adapters/outbound/signature.js';
import { listenOnLoopback, withBody } from './fake-clouds/loopback.js';

export interface ReceivedAttempt {
  eventId: string;
  type: string;
  path: string;
  signatureValid: boolean;
  answered: number;
  body: string;
}

export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order. */
  attempts: ReceivedAttempt[];
  /** Accepted bodies by event id, the first kept (what a de-duplicating receiver processes). */
  accepted: Map<string, { type: string; body: unknown }>;
  /** Accepted requests whose event id had been accepted before (dropped by de-duplication). */
  duplicates: number;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(options: { secret: string; failFirst?: number; dead?: boolean }): Promise<WebhookReceiver> {
  const attempts: ReceivedAttempt[] = [];
  const accepted = new Map<string, { type: string; body: unknown }>();
  const tries = new Map<string, number>();
  const receiver = { attempts, accepted, duplicates: 0 };
  const server = createServer((request, response) => {
    if (options.dead) return; // never answers
    withBody(request, (body) => {
      const eventId = String(request.headers['x-crossfade-event-id'] ?? '');
      const valid = signatureValid(options.secret, { timestamp: header(request.headers['x-crossfade-timestamp']), signature: header(request.headers['x-crossfade-signature']) }, body, new Date());
      const tried = (tries.get(eventId) ?? 0) + 1;
      tries.set(eventId, tried);
      const status = !valid ? 401 : tried <= (options.failFirst ?? 0) ? 503 : 204;
      attempts.push({ eventId, type: String(request.headers['x-crossfade-event-type'] ?? ''), path: request.url ?? '/', signatureValid: valid, answered: status, body });
      if (status === 204) {
        if (accepted.has(eventId)) receiver.duplicates++;
        else accepted.set(eventId, { type: String(request.headers['x-crossfade-event-type']), body: JSON.parse(body) });
      }
      response.writeHead(status).end();
    });
  });
  const { port, stop } = await listenOnLoopback(server);
  return Object.assign(receiver, { url: `http://127.0.0.1:${port}/hooks/crossfade`, stop });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
