/**
 * The local stack's delivery of notifications (in AWS and GCP a scheduled function runs
 * dispatchDue instead): one pass at a time, started when an event is enqueued (kick) or when the
 * earliest retry falls due, and at least every `idleMs` (items another process enqueued on a
 * shared table). Never awaited by a run: enqueueing only kicks.
 */
import { dispatchDue, type DispatchDeps } from '../usecases/notify/dispatch.js';

export interface DispatchLoop {
  kick(): void;
  /** Stops scheduling and waits for the pass under way (bounded by one attempt's deadline). */
  stop(): Promise<void>;
}

/** A pass that failed (the store unreachable) is tried again this soon. */
const RETRY_AFTER_FAILURE_MS = 5000;

export function startDispatchLoop(deps: DispatchDeps, idleMs = 30_000): DispatchLoop {
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void pass(), Math.max(0, ms));
    timer.unref();
  };

  async function pass(): Promise<void> {
    if (current) {
      again = true;
      return;
    }
    let nextDueAt: string | null = null;
    current = dispatchDue(deps)
      .then((report) => void (nextDueAt = report.nextDueAt))
      .catch((error: unknown) => {
        deps.logger.error('notification dispatch failed', { error: error instanceof Error ? error.message : String(error) });
        nextDueAt = new Date(Date.now() + RETRY_AFTER_FAILURE_MS).toISOString();
      });
    await current;
    current = undefined;
    if (again) {
      again = false;
      schedule(0);
      return;
    }
    schedule(nextDueAt === null ? idleMs : Math.min(idleMs, Date.parse(nextDueAt) - Date.now()));
  }

  schedule(0);
  return {
    kick: () => (current ? (again = true) : schedule(0)),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}

/**
 * A scheduled function's run (functions/notify.ts, gcp/index.ts `notify`): passes until nothing is
 * due within the time left, waiting for retries that fall due before the next schedule would.
 */
export async function drainOutbox(deps: DispatchDeps, remainingMs: () => number): Promise<{ passes: number; attempted: number; delivered: number; undelivered: number }> {
  const total = { passes: 0, attempted: 0, delivered: 0, undelivered: 0 };
  const reserveMs = deps.delivery.timeoutMs + 5000;
  while (remainingMs() > reserveMs) {
    const report = await dispatchDue(deps);
    total.passes++;
    total.attempted += report.attempted;
    total.delivered += report.delivered;
    total.undelivered += report.undelivered;
    if (report.nextDueAt === null) break;
    const waitMs = Date.parse(report.nextDueAt) - Date.now();
    if (waitMs > remainingMs() - reserveMs) break;
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  return total;
}
