/**
 * Which destinations a notification goes to: every webhook whose `events` and `services` filters
 * accept it, and the EventBridge bus and Pub/Sub topic when configured (they take everything;
 * their own rules and subscriptions filter). Destination names are the outbox's keys.
 */
import { globMatches } from '../scopes.js';
import type { NotificationsConfig } from './schema.js';
import type { Notification, NotificationKind } from './types.js';

export interface DestinationRoute {
  /** `webhook:<name>`, `eventbridge` or `pubsub`. */
  destination: string;
  events?: readonly NotificationKind[] | undefined;
  services?: readonly string[] | undefined;
}

export const EVENTBRIDGE_DESTINATION = 'eventbridge';
export const PUBSUB_DESTINATION = 'pubsub';
export const webhookDestination = (name: string) => `webhook:${name}`;

export function routesOf(config: NotificationsConfig): DestinationRoute[] {
  return [
    ...config.webhooks.map((hook) => ({ destination: webhookDestination(hook.name), events: hook.events, services: hook.services })),
    ...(config.eventBridge ? [{ destination: EVENTBRIDGE_DESTINATION }] : []),
    ...(config.pubsub ? [{ destination: PUBSUB_DESTINATION }] : []),
  ];
}

export function destinationsFor(notification: Notification, routes: readonly DestinationRoute[]): string[] {
  return routes
    .filter((route) => route.events === undefined || route.events.includes(notification.type))
    .filter((route) => route.services === undefined || route.services.some((glob) => globMatches(glob, notification.deployment.service)))
    .map((route) => route.destination);
}
