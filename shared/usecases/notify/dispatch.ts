/**
 * Delivers what the outbox holds (docs/notifications.md): each due item is claimed (its attempt
 * counted, with a lease so a dispatcher that dies mid-attempt leaves it to another), sent, then
 * marked delivered, or given a later try with backoff, or after the last attempt marked
 * undelivered and logged as an error. At least once: a lost answer means a repeat, which the
 * receiver drops by the event id. Every attempt is logged.
 */
import { retryDelayMs, type DeliverySettings } from '../../domain/notifications/retry.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { NotificationOutbox, OutboxItem } from '../../ports/notification-outbox.js';
import type { NotificationSender } from '../../ports/notification-sender.js';

export interface DispatchDeps {
  outbox: NotificationOutbox;
  senders: ReadonlyMap<string, NotificationSender>;
  delivery: DeliverySettings;
  clock: Clock;
  /** In [0, 1): the backoff's jitter. */
  random: () => number;
  logger: Logger;
}

export interface DispatchReport {
  attempted: number;
  delivered: number;
  undelivered: number;
  /** The earliest time a pending item not yet due may be tried; null when none is waiting. */
  nextDueAt: string | null;
}

/** Items read per pass; one pass sends them all concurrently, so one dead receiver holds up nothing else. */
const BATCH = 50;
/** A claimed attempt's lease beyond its deadline: past it, another dispatcher may try the item. */
const CLAIM_MARGIN_MS = 5000;

/** One pass: every due item gets one attempt. */
export async function dispatchDue(deps: DispatchDeps): Promise<DispatchReport> {
  const now = deps.clock.now();
  const items = await deps.outbox.pending(BATCH);
  const due = items.filter((item) => Date.parse(item.nextAttemptAt) <= now.getTime());
  const later = items.filter((item) => Date.parse(item.nextAttemptAt) > now.getTime()).map((item) => item.nextAttemptAt).sort();
  const outcomes = await Promise.all(due.map((item) => attempt(deps, item)));
  return {
    attempted: outcomes.filter((o) => o !== 'skipped').length,
    delivered: outcomes.filter((o) => o === 'delivered').length,
    undelivered: outcomes.filter((o) => o === 'undelivered').length,
    // After attempts, look again at once: what they rescheduled is read back with its new time.
    nextDueAt: due.length > 0 ? now.toISOString() : (later[0] ?? null),
  };
}

type Outcome = 'delivered' | 'retry' | 'undelivered' | 'skipped';

async function attempt(deps: DispatchDeps, item: OutboxItem): Promise<Outcome> {
  const { delivery, logger } = deps;
  const sender = deps.senders.get(item.destination);
  const number = item.attempts + 1;
  const fields = { notificationId: item.notification.id, type: item.notification.type, destination: item.destination, attempt: number, maxAttempts: delivery.maxAttempts };
  const startedAt = deps.clock.now();
  const claimed: OutboxItem = { ...item, attempts: number, nextAttemptAt: new Date(startedAt.getTime() + delivery.timeoutMs + CLAIM_MARGIN_MS).toISOString() };
  if (!(await deps.outbox.replace(item, claimed))) return 'skipped'; // another dispatcher has it
  let failure: string | null = null;
  if (sender === undefined) failure = `destination ${item.destination} is no longer configured`;
  else {
    try {
      await sender.send(item.notification, delivery.timeoutMs);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
  }
  const now = deps.clock.now();
  const elapsedMs = now.getTime() - startedAt.getTime();
  if (failure === null) {
    await deps.outbox.replace(claimed, { ...claimed, status: 'delivered', lastError: null, finishedAt: now.toISOString() });
    logger.info('notification delivered', { ...fields, elapsedMs });
    return 'delivered';
  }
  if (number >= delivery.maxAttempts || sender === undefined) {
    await deps.outbox.replace(claimed, { ...claimed, status: 'undelivered', lastError: failure, finishedAt: now.toISOString() });
    logger.error('notification UNDELIVERED: giving up', { ...fields, elapsedMs, error: failure, deployment: item.notification.deployment });
    return 'undelivered';
  }
  const nextAttemptAt = new Date(now.getTime() + retryDelayMs(number, delivery, deps.random())).toISOString();
  await deps.outbox.replace(claimed, { ...claimed, lastError: failure, nextAttemptAt });
  logger.warn('notification attempt failed', { ...fields, elapsedMs, error: failure, nextAttemptAt });
  return 'retry';
}
