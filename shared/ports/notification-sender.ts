/** One destination of notifications: a signed webhook, an EventBridge bus, a Pub/Sub topic (adapters/notifications/). */
import type { Notification } from '../domain/notifications/types.js';

export interface NotificationSender {
  /**
   * Delivers the notification once, within `timeoutMs`; resolves only when the destination accepted
   * it. Throws (DependencyUnavailableError, naming the destination) when it did not. Not idempotent
   * at the receiver: a retry after a lost answer delivers again, and the notification's id (header
   * X-Crossfade-Event-Id, EventBridge detail.id, Pub/Sub attribute eventId) is what de-duplicates.
   */
  send(notification: Notification, timeoutMs: number): Promise<void>;
}
