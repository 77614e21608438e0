/**
 * Lambda `notify`: on EventBridge's schedule (every minute), delivers what the notification outbox
 * holds (docs/notifications.md), retrying with backoff within its time and leaving the rest to the
 * next run. Errors go through, so Lambda's metrics and alarms see a dispatcher that cannot read
 * the store.
 */
import type { Context } from 'aws-lambda';
import { composeDeps, type RuntimeDeps } from '../shared/runtime/compose.js';
import { notificationsOf } from '../shared/runtime/notifications.js';
import { drainOutbox } from '../shared/runtime/dispatch-loop.js';

let deps: RuntimeDeps | undefined;
const depsOnce = (): RuntimeDeps => (deps ??= composeDeps({ env: process.env, configRequired: true, notifications: notificationsOf }));

export async function handler(_event: unknown, context: Context) {
  const notifications = depsOnce().notifications;
  if (!notifications) return { passes: 0, attempted: 0, delivered: 0, undelivered: 0 };
  const report = await drainOutbox(notifications.dispatch, () => context.getRemainingTimeInMillis());
  depsOnce().logger.info('scheduled notification delivery', report);
  return report;
}
