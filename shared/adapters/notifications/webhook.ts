/**
 * A notification webhook: the body (format crossfade or slack, domain/notifications/formats.ts)
 * POSTed through outboundFetch (deadline, allowed hosts, same-host redirects only), signed with
 * the webhook's secret (adapters/outbound/signature.ts), carrying the event id to de-duplicate on.
 * Any 2xx is delivered; anything else is a failed attempt, retried by the dispatcher.
 */
import { DependencyUnavailableError } from '../../domain/errors.js';
import { webhookBody, type WebhookFormat } from '../../domain/notifications/formats.js';
import type { Notification } from '../../domain/notifications/types.js';
import type { OutboundSettings } from '../../domain/outbound.js';
import type { Clock } from '../../ports/clock.js';
import type { NotificationSender } from '../../ports/notification-sender.js';
import { outboundFetch } from '../outbound/fetch.js';
import { signatureHeaders } from '../outbound/signature.js';

export const EVENT_ID_HEADER = 'X-Crossfade-Event-Id';
export const EVENT_TYPE_HEADER = 'X-Crossfade-Event-Type';

export interface WebhookTarget {
  name: string;
  url: URL;
  secret: string;
  format: WebhookFormat;
}

export function webhookSender(target: WebhookTarget, outbound: OutboundSettings, clock: Clock, userAgent: string): NotificationSender {
  const what = `webhook "${target.name}"`;
  return {
    async send(notification: Notification, timeoutMs: number): Promise<void> {
      const body = webhookBody(notification, target.format);
      const headers = {
        'content-type': 'application/json',
        'user-agent': userAgent,
        [EVENT_ID_HEADER]: notification.id,
        [EVENT_TYPE_HEADER]: notification.type,
        ...signatureHeaders(target.secret, clock.now(), body),
      };
      const answer = await outboundFetch({ url: target.url, method: 'POST', headers, body, timeoutMs, what }, outbound);
      if (answer.status < 200 || answer.status >= 300) {
        throw new DependencyUnavailableError(what, `POST ${target.url.origin}: answered ${answer.status}${answer.body ? ` (${answer.body.slice(0, 200)})` : ''}`);
      }
    },
  };
}
