/** NotificationOutbox in memory, for unit tests (the contract suite runs it beside the DynamoDB adapter). */
import type { NotificationOutbox, OutboxItem } from '../../shared/ports/notification-outbox.js';

const keyOf = (item: OutboxItem) => `${item.notification.id}\u0000${item.destination}`;

export class InMemoryNotificationOutbox implements NotificationOutbox {
  readonly items = new Map<string, OutboxItem>();
  enqueues = 0;

  async enqueue(item: OutboxItem): Promise<'enqueued' | 'exists'> {
    this.enqueues++;
    if (this.items.has(keyOf(item))) return 'exists';
    this.items.set(keyOf(item), structuredClone(item));
    return 'enqueued';
  }

  async pending(limit: number): Promise<OutboxItem[]> {
    return [...this.items.values()]
      .filter((item) => item.status === 'pending')
      .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt))
      .slice(0, limit)
      .map((item) => structuredClone(item));
  }

  async replace(current: OutboxItem, next: OutboxItem): Promise<boolean> {
    const stored = this.items.get(keyOf(current));
    if (stored === undefined || stored.status !== 'pending' || stored.attempts !== current.attempts) return false;
    this.items.set(keyOf(current), structuredClone(next));
    return true;
  }

  async itemsOf(notificationId: string): Promise<OutboxItem[]> {
    return [...this.items.values()].filter((item) => item.notification.id === notificationId).map((item) => structuredClone(item));
  }
}
