/**
 * Notifications, built from crossfade.yaml once per cold start (docs/notifications.md): the
 * notifier the use cases enqueue through, the senders per destination, and what the dispatcher
 * needs. None when no destination is configured: nothing is enqueued then.
 */
import type { CrossfadeConfig } from '../domain/config.js';
import { ConfigError } from '../domain/errors.js';
import { EVENTBRIDGE_DESTINATION, PUBSUB_DESTINATION, routesOf, webhookDestination } from '../domain/notifications/routing.js';
import type { AwsCredentialsProvider } from '../adapters/clusters/eks.js';
import { eventBridgeSender } from '../adapters/notifications/eventbridge.js';
import { pubSubSender } from '../adapters/notifications/pubsub.js';
import { webhookSender } from '../adapters/notifications/webhook.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { NotificationOutbox } from '../ports/notification-outbox.js';
import type { NotificationSender } from '../ports/notification-sender.js';
import type { DispatchDeps } from '../usecases/notify/dispatch.js';
import type { Notifier } from '../usecases/notify/enqueue.js';

export interface NotificationsRuntime {
  notifier: Notifier;
  dispatch: DispatchDeps;
  /** Where `notifier.kick()` goes: the local stack's dispatch loop sets it; elsewhere the schedule delivers. */
  onKick(kick: () => void): void;
}

export type NotificationsOf = typeof notificationsOf;

export function notificationsOf(
  config: CrossfadeConfig,
  env: Record<string, string | undefined>,
  parts: { outbox: NotificationOutbox; clock: Clock; logger: Logger; version: string; awsCredentials?: AwsCredentialsProvider | undefined },
): NotificationsRuntime | undefined {
  const settings = config.notifications;
  const routes = routesOf(settings);
  if (routes.length === 0) return undefined;
  const senders = new Map<string, NotificationSender>();
  settings.webhooks.forEach((hook, index) => {
    const secret = env[hook.secret.env];
    if (!secret) throw new ConfigError(`notifications.webhooks[${index}].secret.env: environment variable ${hook.secret.env} is not set (the webhook's signing secret)`, `notifications.webhooks[${index}].secret.env`);
    senders.set(webhookDestination(hook.name), webhookSender({ name: hook.name, url: new URL(hook.url), secret, format: hook.format }, config.outbound, parts.clock, `crossfade/${parts.version}`));
  });
  if (settings.eventBridge) senders.set(EVENTBRIDGE_DESTINATION, eventBridgeSender(settings.eventBridge, parts.awsCredentials));
  if (settings.pubsub) senders.set(PUBSUB_DESTINATION, pubSubSender(settings.pubsub));
  let kick = () => {};
  return {
    notifier: { outbox: parts.outbox, routes, clock: parts.clock, kick: () => kick() },
    dispatch: { outbox: parts.outbox, senders, delivery: settings.delivery, clock: parts.clock, random: Math.random, logger: parts.logger },
    onKick: (next) => (kick = next),
  };
}
