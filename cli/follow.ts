/**
 * Following a deployment without the live view: `deploy --wait` polls quietly until it ends;
 * `events --follow` prints each new audit event once, until the deployment ends.
 */
import type { StatusDocument } from '../shared/http/status-document.js';
import { ENDED_STATUSES, type Api, type EventItem } from './api.js';

export interface FollowOptions {
  intervalMs: number;
  /** Stop following after this long (the deployment goes on); undefined: until it ends. */
  timeoutMs?: number;
  signal: AbortSignal;
}

/** Polls until the deployment ends, or the timeout or signal stops the following; answers the last document read. */
export async function waitForEnd(api: Api, id: string, options: FollowOptions, first?: StatusDocument): Promise<StatusDocument> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  let doc = first ?? (await api.deployment(id));
  while (!ENDED_STATUSES.has(doc.status) && Date.now() < deadline && !options.signal.aborted) {
    await pause(Math.min(options.intervalMs, deadline - Date.now()), options.signal);
    if (options.signal.aborted) break;
    doc = await api.deployment(id);
  }
  return doc;
}

/**
 * Prints (through `print`) every event not printed yet, then again after each interval, until the
 * deployment has ended and its last events are out. Answers the deployment's last document.
 */
export async function followEvents(api: Api, id: string, options: FollowOptions, print: (event: EventItem) => void): Promise<StatusDocument> {
  const seen = new Set<string>();
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  for (;;) {
    // The status first: events read after it include everything up to its end.
    const doc = await api.deployment(id);
    for (const event of (await api.events(id)).items) {
      if (seen.has(event.eventId)) continue;
      seen.add(event.eventId);
      print(event);
    }
    if (ENDED_STATUSES.has(doc.status) || Date.now() >= deadline || options.signal.aborted) return doc;
    await pause(Math.min(options.intervalMs, deadline - Date.now()), options.signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
