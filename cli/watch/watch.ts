/**
 * `crossfade watch`: follows a deployment live until it ends (docs/watch.md). Each poll is one
 * `GET /v1/deployments/{id}` with `If-None-Match`, answered 304 while nothing changed; the events
 * and the service's proxy state are read only when the deployment changed, and every few polls
 * for convergence, which moves without the deployment changing. Off a terminal, neither is read.
 */
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { StatusDocument } from '../../shared/http/status-document.js';
import type { Transport } from '../transport/transport.js';
import { linePainter, terminalPainter, type Painter } from './painters.js';
import { EventFeed, readDeployment, readService } from './reads.js';
import { hasEnded, type ServiceState, type Source, type WatchView } from './view.js';

export interface WatchOptions {
  out: Writable;
  /** Redraw in place (a terminal); otherwise one line per change. */
  tty: boolean;
  color: boolean;
  /** Time between polls; default 2000. */
  intervalMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_INTERVAL_MS = 2000;
/** Events and proxy state are read again at least every this many polls. */
const DETAILS_EVERY_POLLS = 5;

/**
 * Follows deployment `id` until it ends and answers its last status document. When `signal`
 * aborts first, it answers the last document read (still RUNNING: the caller maps that to "stopped
 * following"), or throws the signal's reason if none was. 401, 403, 404 and 400 throw
 * UnauthenticatedError, ForbiddenError, NotFoundError, ValidationError; anything that may pass
 * (unreachable, 429, 5xx) is shown and retried.
 */
export async function watchDeployment(transport: Transport, id: string, options: WatchOptions): Promise<StatusDocument> {
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const painter: Painter = options.tty ? terminalPainter(options.out, { color: options.color, intervalMs }) : linePainter(options.out);
  const feed = options.tty ? new EventFeed(transport, id) : null;
  const trouble: WatchView['trouble'] = {};
  let document: StatusDocument | undefined;
  let etag: string | undefined;
  let service: ServiceState | null = null;

  const note = (source: Source, failure: { kind: 'unavailable'; message: string } | undefined, now: Date) => {
    if (failure === undefined) delete trouble[source];
    else trouble[source] = { message: failure.message, since: trouble[source]?.since ?? now.toISOString(), attempts: (trouble[source]?.attempts ?? 0) + 1 };
  };

  try {
    for (let poll = 0; !options.signal?.aborted; poll++) {
      const read = await readDeployment(transport, id, etag);
      let changed = false;
      note('deployment', read.kind === 'unavailable' ? read : undefined, new Date());
      if (read.kind === 'document') {
        // A server without ETags answers 200 every time: whether it changed is decided here.
        changed = document === undefined || !isDeepStrictEqual(read.document, document);
        document = read.document;
        etag = read.etag;
      }
      if (document === undefined) {
        if (trouble.deployment) painter.waiting(transport.target, trouble.deployment, new Date());
      } else {
        const ended = hasEnded(document);
        if (feed && (changed || ended || poll % DETAILS_EVERY_POLLS === 0)) {
          const [events, proxies] = await Promise.all([feed.refresh(), readService(transport, document.service)]);
          const now = new Date();
          note('events', events.kind === 'unavailable' ? events : undefined, now);
          note('service', proxies.kind === 'unavailable' ? proxies : undefined, now);
          if (proxies.kind === 'service') service = proxies.service;
        }
        painter.paint({ deployment: document, events: feed?.recent ?? [], judgment: feed?.judgment ?? null, service, trouble }, new Date());
        if (ended) return document;
      }
      await sleep(intervalMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
    }
    if (document !== undefined) return document;
    throw options.signal?.reason;
  } finally {
    painter.end();
  }
}
