/**
 * A company's business-rules service on 127.0.0.1, written the way docs/policy.md tells a company
 * to write one, with its own copy of the secret and its own HMAC code (not crossfade's): it
 * recomputes HMAC-SHA256 over `<X-Crossfade-Timestamp>.<body>`, compares it in constant time with
 * `X-Crossfade-Signature: v1=<hex>`, refuses a timestamp more than five minutes away, and answers
 * 401 to a request that fails either check. A verified request gets what the test's `answer` says:
 * a JSON answer, another status, or nothing for `delayMs` (a slow service).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback, withBody } from './fake-clouds/loopback.js';

export const MAX_SKEW_SECONDS = 5 * 60;

/** What the service does with a verified request. */
export type RulesBehaviour =
  | { kind: 'answer'; allow: boolean; reasons: string[] }
  | { kind: 'status'; status: number; body: string }
  /** Answers `then` only after `delayMs` (the caller's deadline should pass first). */
  | { kind: 'slow'; delayMs: number; then: { allow: boolean; reasons: string[] } };

export interface ReceivedRulesCall {
  /** Whether the signature and timestamp verified with this service's secret. */
  verified: boolean;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeRulesService {
  url: string;
  received: ReceivedRulesCall[];
  stop(): Promise<void>;
}

export async function startFakeRulesService(options: { secret: string; behaviour: RulesBehaviour; now?: () => number }): Promise<FakeRulesService> {
  const received: ReceivedRulesCall[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((request, response) => {
    withBody(request, (text) => {
      const verified = verifies(options.secret, request.headers['x-crossfade-timestamp'], request.headers['x-crossfade-signature'], text, (options.now ?? Date.now)());
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // Recorded as {}: the test sees the call, and the answer below is still the signature's.
      }
      received.push({ verified, body, headers: request.headers });
      const send = (status: number, payload: string) => response.writeHead(status, { 'content-type': 'application/json' }).end(payload);
      if (!verified) return send(401, JSON.stringify({ error: 'signature does not verify' }));
      const behaviour = options.behaviour;
      if (behaviour.kind === 'answer') return send(200, JSON.stringify({ allow: behaviour.allow, reasons: behaviour.reasons }));
      if (behaviour.kind === 'status') return send(behaviour.status, behaviour.body);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!response.destroyed) send(200, JSON.stringify(behaviour.then));
      }, behaviour.delayMs);
      timers.add(timer);
    });
  });
  const { port, stop } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/v1/judge`,
    received,
    stop: () => {
      for (const timer of timers) clearTimeout(timer);
      return stop();
    },
  };
}

/** The receiver's check, as docs/policy.md describes it. */
function verifies(secret: string, timestamp: string | string[] | undefined, signature: string | string[] | undefined, body: string, nowMs: number): boolean {
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_SKEW_SECONDS) return false;
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
