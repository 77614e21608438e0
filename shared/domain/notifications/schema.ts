/**
 * crossfade.yaml's `notifications` (docs/configuration.md, docs/notifications.md): signed webhooks,
 * an EventBridge bus, a Pub/Sub topic, and how deliveries are retried. The URLs are checked against
 * `outbound` by config.ts (outboundUrls), like every URL crossfade calls.
 */
import * as z from 'zod/mini';
import { RESOURCE_NAME_PATTERN } from '../names.js';
import { GLOB_PATTERN } from '../scopes.js';
import { WEBHOOK_FORMATS } from './formats.js';
import { DEFAULT_DELIVERY } from './retry.js';
import { NOTIFICATION_KINDS } from './types.js';

const name = z.string().check(z.regex(RESOURCE_NAME_PATTERN, 'must be a DNS-1123 label (lower-case letters, digits, "-")'));
const url = z.string().check(z.minLength(1, 'must not be empty'));
const int = (min: number, max: number, fallback: number) => z._default(z.int().check(z.minimum(min, `must be from ${min} to ${max}`), z.maximum(max, `must be from ${min} to ${max}`)), fallback);

const webhook = z.strictObject({
  name,
  url,
  /** The HMAC key, read from the environment variable named here (never written in the file). */
  secret: z.strictObject({ env: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name')) }),
  format: z._default(z.enum(WEBHOOK_FORMATS, `must be one of ${WEBHOOK_FORMATS.join(', ')}`), 'crossfade'),
  /** Only these kinds (default: all). */
  events: z.optional(z.array(z.enum(NOTIFICATION_KINDS, `must be one of ${NOTIFICATION_KINDS.join(', ')}`)).check(z.minLength(1, 'must list at least one kind'))),
  /** Only deployments of services matching one of these globs (default: all). */
  services: z.optional(z.array(z.string().check(z.regex(GLOB_PATTERN, 'must be a glob of 1-63 lower-case letters, digits, "-" and "*"'))).check(z.minLength(1, 'must list at least one glob'))),
});

const eventBridge = z.strictObject({
  busName: z.string().check(z.regex(/^[A-Za-z0-9._\-/]{1,256}$/, 'must be an event bus name')),
  region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1')),
  /** Another endpoint than the region's (tests, VPC endpoints). */
  endpoint: z.optional(url),
  source: z._default(z.string().check(z.regex(/^[A-Za-z0-9._-]{1,256}$/, 'must be 1-256 letters, digits, ".", "_" or "-"')), 'crossfade'),
});

const pubsub = z.strictObject({
  project: z.string().check(z.regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id')),
  topic: z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9._~%+-]{2,254}$/, 'must be a Pub/Sub topic id')),
  /** Another endpoint than pubsub.googleapis.com (`http://127.0.0.1:8085`: an emulator). */
  apiEndpoint: z.optional(url),
});

const delivery = z.strictObject({
  maxAttempts: int(1, 20, DEFAULT_DELIVERY.maxAttempts),
  backoffBaseMs: int(10, 600_000, DEFAULT_DELIVERY.backoffBaseMs),
  backoffMaxMs: int(10, 3_600_000, DEFAULT_DELIVERY.backoffMaxMs),
  timeoutMs: int(100, 60_000, DEFAULT_DELIVERY.timeoutMs),
});

export const NO_NOTIFICATIONS = { webhooks: [], delivery: { ...DEFAULT_DELIVERY } };

export const notificationsSchema = z.strictObject({
  webhooks: z._default(z.array(webhook), []),
  eventBridge: z.optional(eventBridge),
  pubsub: z.optional(pubsub),
  delivery: z._default(delivery, { ...DEFAULT_DELIVERY }),
});

export type NotificationsConfig = z.infer<typeof notificationsSchema>;
export type WebhookConfig = z.infer<typeof webhook>;

/** The URLs of `notifications`, with their keys, for the outbound check. */
export function notificationUrls(config: NotificationsConfig): { key: string; url: string }[] {
  return [
    ...config.webhooks.map((hook, index) => ({ key: `notifications.webhooks[${index}].url`, url: hook.url })),
    ...(config.eventBridge?.endpoint ? [{ key: 'notifications.eventBridge.endpoint', url: config.eventBridge.endpoint }] : []),
    ...(config.pubsub?.apiEndpoint ? [{ key: 'notifications.pubsub.apiEndpoint', url: config.pubsub.apiEndpoint }] : []),
  ];
}
