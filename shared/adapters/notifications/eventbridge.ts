/**
 * Notifications as Amazon EventBridge events (docs/notifications.md): PutEvents on the configured
 * bus, source `crossfade` (configurable), detail-type per kind (domain/notifications/formats.ts
 * DETAIL_TYPES), the notification's JSON shape as the detail. PutEvents answers 200 with failed
 * entries counted, so a failed entry is a failed attempt too.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { DependencyUnavailableError } from '../../domain/errors.js';
import { DETAIL_TYPES } from '../../domain/notifications/formats.js';
import type { Notification } from '../../domain/notifications/types.js';
import type { NotificationSender } from '../../ports/notification-sender.js';
import { commonJs } from '../first-use-import.js';

export interface EventBridgeTarget {
  busName: string;
  region: string;
  endpoint?: string | undefined;
  source: string;
}

export function eventBridgeSender(target: EventBridgeTarget, credentials?: AwsCredentialIdentityProvider): NotificationSender {
  let client: EventBridgeClient | undefined;
  const what = `EventBridge bus ${target.busName}`;
  return {
    async send(notification: Notification, timeoutMs: number): Promise<void> {
      // Loaded at the first send (a chunk of its own in the bundles: most functions never send).
      // The dispatcher's deadline bounds each call; the SDK's own retries stay off (the outbox retries).
      const { EventBridgeClient, PutEventsCommand } = commonJs(await import('@aws-sdk/client-eventbridge'));
      client ??= new EventBridgeClient({ region: target.region, maxAttempts: 1, ...(target.endpoint ? { endpoint: target.endpoint } : {}), ...(credentials ? { credentials } : {}) });
      const command = new PutEventsCommand({
        Entries: [
          {
            EventBusName: target.busName,
            Source: target.source,
            DetailType: DETAIL_TYPES[notification.type],
            Detail: JSON.stringify(notification),
            Time: new Date(notification.at),
            Resources: [],
          },
        ],
      });
      let answer;
      try {
        answer = await client.send(command, { abortSignal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        throw new DependencyUnavailableError(what, `PutEvents ${notification.id}`, { cause: error });
      }
      const failed = answer.Entries?.find((entry) => entry.ErrorCode);
      if ((answer.FailedEntryCount ?? 0) > 0 || failed) {
        throw new DependencyUnavailableError(what, `PutEvents ${notification.id}: entry refused (${failed?.ErrorCode ?? '?'}: ${failed?.ErrorMessage ?? 'no message'})`);
      }
    },
  };
}
