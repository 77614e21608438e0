/**
 * Recording a notifiable event puts it in the outbox, one conditional put per destination keyed by
 * the event's id, so a retried write (or ensureLastEvent's repair) enqueues nothing twice. Then the
 * dispatcher is kicked, never awaited: delivery happens beside the run, not in it.
 */
import type { Deployment } from '../../domain/deployment.js';
import { notificationOf } from '../../domain/notifications/of-event.js';
import { destinationsFor, type DestinationRoute } from '../../domain/notifications/routing.js';
import type { AuditEvent } from '../../ports/audit-log.js';
import type { Clock } from '../../ports/clock.js';
import type { NotificationOutbox } from '../../ports/notification-outbox.js';

export interface Notifier {
  outbox: NotificationOutbox;
  routes: readonly DestinationRoute[];
  clock: Clock;
  /** Asks for a delivery pass soon (the local stack's loop); must not throw or block. */
  kick(): void;
}

/** Enqueues `event`'s notification for every destination that takes it; `deployment` is as the event's write stored it. */
export async function enqueueNotifications(notifier: Notifier, event: AuditEvent, deployment: Deployment | undefined): Promise<void> {
  const notification = notificationOf(event, deployment);
  if (notification === undefined) return;
  const at = notifier.clock.now().toISOString();
  const outcomes = await Promise.all(
    destinationsFor(notification, notifier.routes).map((destination) =>
      notifier.outbox.enqueue({ notification, destination, status: 'pending', attempts: 0, lastError: null, nextAttemptAt: at, enqueuedAt: at, finishedAt: null }),
    ),
  );
  if (outcomes.includes('enqueued')) notifier.kick();
}
