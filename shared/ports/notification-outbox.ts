/**
 * The outbox of notifications (docs/notifications.md): one item per notification and destination,
 * written when the event is recorded, delivered later by a dispatcher (usecases/notify/dispatch.ts)
 * so a slow or dead receiver never slows a run.
 */
import type { Notification } from '../domain/notifications/types.js';

export type OutboxStatus = 'pending' | 'delivered' | 'undelivered';

export interface OutboxItem {
  notification: Notification;
  /** `webhook:<name>`, `eventbridge`, `pubsub` (domain/notifications/routing.ts). */
  destination: string;
  status: OutboxStatus;
  /** Attempts started so far (a claimed attempt counts even if its dispatcher died). */
  attempts: number;
  lastError: string | null;
  /** When the item may next be tried; while an attempt is under way, when that attempt's claim lapses. */
  nextAttemptAt: string;
  enqueuedAt: string;
  /** When it was delivered or given up. */
  finishedAt: string | null;
}

export interface NotificationOutbox {
  /** Stores the item unless one exists for its notification id and destination ('exists': a retry). Throws DependencyUnavailableError. */
  enqueue(item: OutboxItem): Promise<'enqueued' | 'exists'>;
  /**
   * Pending items, earliest `nextAttemptAt` first, at most `limit`. The listing may lag a write
   * by a moment (an index); `replace` is what decides. Throws DependencyUnavailableError.
   */
  pending(limit: number): Promise<OutboxItem[]>;
  /**
   * Replaces `current` with `next` if the stored item is still pending with `current.attempts`:
   * false when another dispatcher changed it first. Idempotent in effect: a repeat finds it changed.
   * Throws DependencyUnavailableError.
   */
  replace(current: OutboxItem, next: OutboxItem): Promise<boolean>;
  /** Every destination's item of one notification. */
  itemsOf(notificationId: string): Promise<OutboxItem[]>;
}
